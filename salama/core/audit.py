"""The append-only, hash-chained audit log: write entries, and verify the chain.

Call :func:`record` inside the transaction that makes the change, so the entry and the
change commit or roll back together.
"""

import datetime
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from salama.core.models import AuditEntry

GENESIS = "0" * 64
# Any constant works; it names the PostgreSQL advisory lock that serialises the chain.
_CHAIN_LOCK_ID = 7_261_001


def jsonable(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def snapshot(instance: Model, exclude: tuple[str, ...] = ()) -> dict:
    """A JSON-safe dict of a model instance's concrete fields, by attribute name."""
    return {
        f.attname: jsonable(getattr(instance, f.attname))
        for f in instance._meta.concrete_fields
        if f.attname not in exclude
    }


def _content(entry: AuditEntry) -> dict:
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "before": entry.before,
        "after": entry.after,
        "prev": entry.prev_hash,
    }


def compute_hash(entry: AuditEntry) -> str:
    canonical = json.dumps(_content(entry), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_chain():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])
    # SQLite: Salama opens write transactions IMMEDIATE, which already serialises writers.


def record(
    action: str,
    *,
    actor=None,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Append one entry to the chain. Runs in (or opens) a transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:300]
    with transaction.atomic():
        _lock_chain()
        last = AuditEntry.objects.order_by("-seq").only("seq", "hash").first()
        entry = AuditEntry(
            seq=(last.seq + 1) if last else 1,
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=(actor.get_username() if getattr(actor, "pk", None) else "system"),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            object_repr=object_repr[:300],
            before=jsonable(before),
            after=jsonable(after),
            prev_hash=last.hash if last else GENESIS,
        )
        entry.hash = compute_hash(entry)
        entry.save()
    return entry


def changes(before: dict | None, after: dict | None) -> dict:
    """Field → (old, new) for the fields that differ."""
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


@dataclass
class Problem:
    seq: int | None
    kind: str  # edited, inserted_or_reordered, deleted
    message: str


@dataclass
class VerifyResult:
    entries: int = 0
    problems: list[Problem] = field(default_factory=list)
    head: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(chunk_size: int = 5000) -> VerifyResult:
    """Walk the chain in order and report every entry that breaks it."""
    result = VerifyResult()
    expected_prev, expected_seq = GENESIS, 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk_size):
        result.entries += 1
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                missing = f"{expected_seq}" + (
                    f"–{entry.seq - 1}" if entry.seq - 1 > expected_seq else ""
                )
                result.problems.append(
                    Problem(entry.seq, "deleted", f"entries {missing} are missing")
                )
            else:
                result.problems.append(
                    Problem(entry.seq, "inserted_or_reordered", "sequence number out of order")
                )
        if compute_hash(entry) != entry.hash:
            result.problems.append(
                Problem(entry.seq, "edited", "content does not match its hash (edited)")
            )
        elif entry.prev_hash != expected_prev and entry.seq == expected_seq:
            result.problems.append(
                Problem(
                    entry.seq,
                    "inserted_or_reordered",
                    "does not link to the entry before it (an entry was inserted, replaced "
                    "or deleted)",
                )
            )
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    result.head = expected_prev
    return result
