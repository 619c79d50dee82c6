from importlib import import_module

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from salama.core import audit
from salama.core.models import AuditEntry


def _disable_triggers():
    """What an attacker with database access would do first (no-op if already gone)."""
    import_module("salama.core.migrations.0002_audit_append_only_triggers").remove(connection)


@pytest.fixture
def chain(db):
    return [
        audit.record("test", object_type="thing", object_id=str(i), after={"n": i})
        for i in range(5)
    ]


def test_a_fresh_chain_verifies(chain):
    result = audit.verify()
    assert result.ok
    assert result.entries == 5
    assert result.head == chain[-1].hash


def test_entries_link_to_the_one_before(chain):
    assert chain[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]


def test_the_orm_refuses_to_change_or_delete_entries(chain):
    entry = AuditEntry.objects.get(seq=2)
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(seq=2).update(action="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.parametrize(
    "sql", ["UPDATE core_auditentry SET action = 'forged'", "DELETE FROM core_auditentry"]
)
def test_the_database_refuses_direct_updates_and_deletes(chain, sql):
    triggers = import_module("salama.core.migrations.0002_audit_append_only_triggers")
    triggers.install(connection)
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEntry.objects.count() == 5


def test_verify_reports_an_edited_entry(chain):
    _disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = 'forged' WHERE seq = 3")
    result = audit.verify()
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "edited")]


def test_verify_reports_an_edit_whose_hash_was_recomputed(chain):
    _disable_triggers()
    forged = AuditEntry.objects.get(seq=3)
    forged.action = "forged"
    forged.hash = audit.compute_hash(forged)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET action = %s, hash = %s WHERE seq = 3",
            ["forged", forged.hash],
        )
    result = audit.verify()
    assert [(p.seq, p.kind) for p in result.problems] == [(4, "inserted_or_reordered")]


def test_verify_reports_a_deleted_entry(chain):
    _disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq = 2")
    result = audit.verify()
    assert (3, "deleted") in [(p.seq, p.kind) for p in result.problems]


def test_verify_reports_an_inserted_entry(chain):
    _disable_triggers()
    last = chain[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_auditentry (seq, at, actor_label, action, object_type, object_id, "
            "object_repr, prev_hash, hash) VALUES (6, %s, 'mallory', 'forged', '', '', '', %s, %s)",
            [last.at, "f" * 64, "e" * 64],
        )
    result = audit.verify()
    assert {p.kind for p in result.problems} == {"edited"}


def test_the_command_fails_loudly_on_a_damaged_chain(chain, capsys):
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out
    _disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET after = NULL WHERE seq = 1")
    with pytest.raises(CommandError, match="damaged"):
        call_command("audit", "verify")
    assert "entry 1: edited" in capsys.readouterr().out
