"""The linkage run as a background task (django-tasks, database backend: ``salama db_worker``)."""

from django_tasks import task

from salama.linkage.models import LinkageRun


@task()
def link_incidents(run_id: int) -> dict:
    """Run linkage for the queued :class:`LinkageRun` ``run_id``; return its counters."""
    from salama.linkage.services import run_linkage

    run = LinkageRun.objects.get(pk=run_id)
    result = run_linkage(user=run.started_by, engine_name=run.engine, run=run)
    return {"run": run.pk, "pairs": result.run.pairs, "proposed": result.run.proposed}
