"""Keep the snapshot in step with edits: after a transaction that saved or deleted an
incident commits, queue one refresh (``schedule_refresh``; the worker runs it).

Saves made by the services (create, edit, submit, endorse, close, merge) and the importer's
updates all call ``Incident.save``; bulk inserts (imports' new rows, ``salama generate``) do not,
and call ``schedule_refresh`` themselves when they finish.
"""

from django.db import DEFAULT_DB_ALIAS, transaction
from django.dispatch import Signal

# The annual report asks the apps below analytics for Table G's status list (arrests,
# detentions and abductions currently open) without importing them. Sent with ``user`` (None:
# the operator, everything), ``year_from``, ``year_to`` and ``today`` (the date days held run
# to). A receiver returns None when it has nothing the user may see, else
# {"rows": [...], "left_out_without_consent": int}, each row a dict: reference (pseudonymous,
# never an identity), kind ("detention" or "abduction"), offence and authority (labels),
# country (ISO code), date, days_held, medical_access_on and legal_access_on (None: not
# recorded, or an abduction), released (dates: datetime.date).
open_cases_requested = Signal()


def _schedule() -> None:
    from salama.analytics.tasks import schedule_refresh

    schedule_refresh()


def incident_changed(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    connection = transaction.get_connection(using)
    # One refresh per transaction, however many incidents it saves (an import updates many).
    if any(entry[1] is _schedule for entry in connection.run_on_commit):
        return
    transaction.on_commit(_schedule, using=using)


def import_finished(sender, batch=None, **kwargs) -> None:
    """A finished import (its new rows were bulk-inserted, without post_save)."""
    transaction.on_commit(_schedule)


def database_restored(sender, manifest=None, **kwargs) -> list[str]:
    """After ``salama restore``: the snapshot describes the database before it; forget it
    and queue a full refresh (the worker runs it)."""
    from salama.analytics import snapshot

    snapshot.forget()
    _schedule()
    return []


def migrated(sender, **kwargs) -> None:
    """After ``salama migrate``: a snapshot written by an older layout (an upgrade) is ignored
    until a full refresh rewrites it, so queue that refresh now rather than leave the
    dashboards saying "no snapshot yet" until the next edit."""
    from salama.analytics import snapshot

    if snapshot.outdated():
        _schedule()
