"""Indexes for the list's search (``IncidentQuerySet.search``), one kind per database.

- Both: an index on UPPER(reference), for "the reference is exactly this, in any case".
- PostgreSQL: pg_trgm GIN indexes on UPPER(narrative) and UPPER(place), the expressions
  Django's ``icontains`` compares, so ``LIKE '%…%'`` is answered from the index.
  pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
- SQLite: an FTS5 table with the trigram tokenizer over narrative and place, with the
  incidents table as its content (the index alone is stored), filled from the existing rows
  and kept in step by triggers, so the importer's raw INSERTs stay covered.

Neither the GIN indexes nor the FTS table are in Django's model state (neither exists on the
other database). Beware: a later migration that makes Django rebuild incidents_incident on
SQLite (most column changes) drops these triggers with the old table; it must run
``install(connection)`` again, then ``search_index.install`` (migration 0006 replaced them).
``test_search.py`` fails if the triggers are missing.
"""

import django.db.models.functions.text
from django.db import migrations, models

SQLITE = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS incidents_incident_search USING fts5(
           narrative, place,
           content='incidents_incident', content_rowid='id', tokenize='trigram'
       )""",
    # An external-content FTS5 table must be told the old values to forget a row.
    """CREATE TRIGGER IF NOT EXISTS incidents_incident_search_insert
       AFTER INSERT ON incidents_incident BEGIN
           INSERT INTO incidents_incident_search (rowid, narrative, place)
           VALUES (new.id, new.narrative, new.place);
       END""",
    """CREATE TRIGGER IF NOT EXISTS incidents_incident_search_delete
       AFTER DELETE ON incidents_incident BEGIN
           INSERT INTO incidents_incident_search (incidents_incident_search, rowid, narrative, place)
           VALUES ('delete', old.id, old.narrative, old.place);
       END""",
    """CREATE TRIGGER IF NOT EXISTS incidents_incident_search_update
       AFTER UPDATE OF narrative, place ON incidents_incident
       WHEN old.narrative IS NOT new.narrative OR old.place IS NOT new.place BEGIN
           INSERT INTO incidents_incident_search (incidents_incident_search, rowid, narrative, place)
           VALUES ('delete', old.id, old.narrative, old.place);
           INSERT INTO incidents_incident_search (rowid, narrative, place)
           VALUES (new.id, new.narrative, new.place);
       END""",
    "INSERT INTO incidents_incident_search (incidents_incident_search) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS incidents_incident_search_insert",
    "DROP TRIGGER IF EXISTS incidents_incident_search_delete",
    "DROP TRIGGER IF EXISTS incidents_incident_search_update",
    "DROP TABLE IF EXISTS incidents_incident_search",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX IF NOT EXISTS incident_narrative_trgm ON incidents_incident
       USING gin (UPPER(narrative) gin_trgm_ops)""",
    """CREATE INDEX IF NOT EXISTS incident_place_trgm ON incidents_incident
       USING gin (UPPER(place::text) gin_trgm_ops)""",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS incident_narrative_trgm",
    "DROP INDEX IF EXISTS incident_place_trgm",
]


def install(connection):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(connection.vendor) or []
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def remove(connection):
    statements = {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}
    with connection.cursor() as cursor:
        for sql in statements.get(connection.vendor) or []:
            cursor.execute(sql)


def forwards(apps, schema_editor):
    install(schema_editor.connection)


def backwards(apps, schema_editor):
    remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                django.db.models.functions.text.Upper("reference"),
                name="incident_reference_upper",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
