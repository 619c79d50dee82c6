"""Keeping the snapshot fresh in the background: a task in the database-backed queue
(``salama db_worker`` runs it; no extra server)."""

from django_tasks import TaskResultStatus, task

from salama.analytics import snapshot


@task()
def refresh_snapshot(full: bool = False) -> dict:
    """Bring the analytics snapshot up to date (incrementally unless ``full``)."""
    result = snapshot.refresh(full=full)
    return {
        "kind": result.kind,
        "changed": result.changed,
        "deleted": result.deleted,
        "seconds": round(result.seconds, 3),
        "generation": result.generation,
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
