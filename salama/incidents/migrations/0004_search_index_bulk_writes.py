"""SQLite: let the FTS5 search index (migration 0002) buffer more before it writes a segment.

FTS5 keeps the terms of a transaction's new rows in memory and writes them out as a new
index segment whenever that buffer passes ``hashsize`` (1 MiB by default); many small
segments then cost merges that grow with the index. An import chunk or a generated batch
indexes thousands of narratives in one transaction: with 64 MiB it writes one or two
segments instead of dozens. Small transactions (a form, an edit) are not affected; the
buffer is only ever as large as one transaction's new text. PostgreSQL: nothing to do.
"""

from django.db import migrations

SEARCH_TABLE = "incidents_incident_search"
BULK_HASHSIZE = 64 * 2**20
DEFAULT_HASHSIZE = 2**20


def _hashsize(schema_editor, size: int) -> None:
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [SEARCH_TABLE]
        )
        if cursor.fetchone():
            cursor.execute(
                f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rank) VALUES ('hashsize', %s)",
                [size],
            )


def forwards(apps, schema_editor):
    _hashsize(schema_editor, BULK_HASHSIZE)


def backwards(apps, schema_editor):
    _hashsize(schema_editor, DEFAULT_HASHSIZE)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_list_filter_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
