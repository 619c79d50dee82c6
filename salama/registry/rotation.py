"""Key rotation: re-encrypt every identity under the newest key, batch by batch.

Each batch is read, re-sealed and written in its own transaction, so an interruption at any
point (a crash, Ctrl-C, a lost connection) leaves every record readable — either under its old
key, still listed in SALAMA_ENCRYPTION_KEY, or under the new one. Records already under the
newest key are skipped, so running the command again finishes the job. Attached documents
follow, file by file (see ``documents.rotate_files``).
"""

from dataclasses import dataclass

from django.db import connection, transaction

from salama.core import audit
from salama.registry import crypto, documents
from salama.registry.models import Identity

DEFAULT_BATCH = 500


@dataclass
class RotationResult:
    key_id: str
    rotated: int = 0
    batches: int = 0
    remaining: int = 0
    documents: int = 0


def key_counts() -> dict[str, int]:
    """How many identities each key id seals (to know when an old key may be dropped)."""
    from django.db.models import Count

    return dict(
        Identity.objects.order_by().values_list("key_id").annotate(n=Count("pk")).order_by()
    )


def _write(rows):
    """One parameterised UPDATE per row, sent as one batch: nine times quicker than
    ``bulk_update``, whose single CASE statement grows with the batch (bench/registry.py)."""
    table = connection.ops.quote_name(Identity._meta.db_table)
    key_column = connection.ops.quote_name(Identity._meta.get_field("key_id").column)
    blob_column = connection.ops.quote_name(Identity._meta.get_field("ciphertext").column)
    pk_column = connection.ops.quote_name(Identity._meta.pk.column)
    sql = f"UPDATE {table} SET {key_column} = %s, {blob_column} = %s WHERE {pk_column} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(row.key_id, row.ciphertext, row.pk) for row in rows])


def rotate(batch_size: int = DEFAULT_BATCH, on_batch=None) -> RotationResult:
    """Re-encrypt the identities not yet under the newest key. ``on_batch(result)`` is
    called after each committed batch (progress output; tests interrupt from it)."""
    newest = crypto.current_key()
    result = RotationResult(key_id=newest.id)
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                Identity.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .exclude(key_id=newest.id)
                .order_by("pk")[:batch_size]
            )
            if not rows:
                break
            for row in rows:
                row.seal(row.open(), key=newest)
            _write(rows)
        last_pk = rows[-1].pk
        result.rotated += len(rows)
        result.batches += 1
        if on_batch is not None:
            on_batch(result)
    result.documents = documents.rotate_files(newest)
    result.remaining = Identity.objects.exclude(key_id=newest.id).count()
    audit.record(
        "registry:rotate_key",
        object_type="registry.identity",
        object_repr="identities",
        after={
            "key_id": newest.id,
            "rotated": result.rotated,
            "documents": result.documents,
            "remaining": result.remaining,
        },
    )
    return result
