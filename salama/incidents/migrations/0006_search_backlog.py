"""SQLite: a backlog for the text-search index, so large writes can defer indexing.

Creates ``incidents_search_backlog`` and replaces migration 0002's triggers with ones that
leave incidents in a backlog range alone (``salama.incidents.search_index`` explains why and
how the backlog is caught up). Going back indexes the backlog first, then puts 0002's
triggers back. PostgreSQL: nothing to do.
"""

import importlib

from django.db import migrations

from salama.incidents import search_index

_0002 = importlib.import_module("salama.incidents.migrations.0002_search_indexes")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        search_index.install(cursor)


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    search_index.catch_up()
    with connection.cursor() as cursor:
        for name in search_index.TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {search_index.BACKLOG_TABLE}")
        for sql in _0002.SQLITE[1:4]:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0005_updated_at_index")]

    operations = [migrations.RunPython(forwards, backwards)]
