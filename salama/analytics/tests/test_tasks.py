import io

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from salama.analytics import query, snapshot, tasks
from salama.conftest import make_incident

pytestmark = pytest.mark.django_db


def test_schedule_refresh_queues_at_most_one_waiting_refresh(reporter, undp):
    first = tasks.schedule_refresh()
    assert first is not None
    assert tasks.schedule_refresh() is None
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1
    # The worker runs it: the snapshot then holds the incident.
    make_incident(reporter, undp)
    row = DBTaskResult.objects.get(pk=first.id)
    outcome = row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    assert outcome["kind"] == "full"
    assert query.total("incidents") == 1
    row.set_successful(outcome)
    assert tasks.schedule_refresh() is not None


def test_the_refresh_command(reporter, undp):
    make_incident(reporter, undp)
    out = io.StringIO()
    call_command("analytics", "refresh", stdout=out)
    assert "full refresh: 1 incidents read" in out.getvalue()
    call_command("analytics", "status", stdout=out)
    assert "generation 1: 1 incidents" in out.getvalue()
    assert snapshot.State.load().generation == 1


def test_one_refresh_is_queued_after_a_transaction_that_saves_incidents(
    reporter, undp, django_capture_on_commit_callbacks
):
    from salama.incidents.services import submit

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        incident = make_incident(reporter, undp)
        submit(incident, reporter)
    from salama.analytics.signals import _schedule

    assert [c for c in callbacks if c is _schedule] == [_schedule]
    assert (
        DBTaskResult.objects.filter(
            task_path=tasks.refresh_snapshot.module_path, status=TaskResultStatus.READY
        ).count()
        == 1
    )


def test_migrate_queues_a_full_refresh_when_the_snapshot_has_an_older_layout(reporter, undp):
    """After an upgrade changes the layout, the old snapshot is ignored: ``salama migrate``
    queues the refresh that rewrites it (none when the layout is current)."""
    make_incident(reporter, undp)
    snapshot.refresh(full=True)
    queued = DBTaskResult.objects.filter(task_path=tasks.refresh_snapshot.module_path)
    call_command("migrate", verbosity=0)
    assert not queued.exists()
    state = snapshot.State.load()
    state.format = snapshot.FORMAT - 1
    state.save()
    assert snapshot.State.load() is None and snapshot.outdated()
    call_command("migrate", verbosity=0)
    assert queued.filter(status=TaskResultStatus.READY).count() == 1
