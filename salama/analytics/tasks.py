"""Keeping the snapshot fresh in the background: a task in the database-backed queue
(``salama db_worker`` runs it; no extra server)."""

import logging

from django_tasks import TaskResultStatus, task

from salama.analytics import forecast, snapshot

logger = logging.getLogger(__name__)


@task()
def refresh_snapshot(full: bool = False) -> dict:
    """Bring the analytics snapshot up to date (incrementally unless ``full``), then warm the
    forecast's backtests for the new snapshot (``forecast.warm``), so the *Forecast* page's
    first view after a refresh does not compute them (not after a refresh that found nothing
    changed, when they are there already). A failed warm-up leaves the refresh done: the page
    then computes what it needs itself."""
    result = snapshot.refresh(full=full)
    warmed = None
    try:
        # Nothing changed: the warm file's backtests still hold (kept by content).
        if result.kind != "unchanged" or not (snapshot.directory() / forecast.WARM_FILE).exists():
            warmed = forecast.warm()
    except Exception:
        logger.exception("Warming the forecast's backtests failed")
    return {
        "kind": result.kind,
        "changed": result.changed,
        "deleted": result.deleted,
        "seconds": round(result.seconds, 3),
        "generation": result.generation,
        "forecast_warmed": warmed,
    }


def schedule_refresh():
    """Queue a refresh unless one is already waiting: call it after imports and edits, as
    often as you like. A refresh already running does not count, since it may have read the
    database before the change that calls this. Returns the queued result, or None."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=refresh_snapshot.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return None
    return refresh_snapshot.enqueue()
