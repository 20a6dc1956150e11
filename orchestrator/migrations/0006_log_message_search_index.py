"""A trigram index for the log search (`GET /api/logs/?q=`, a case-insensitive `icontains`), PostgreSQL only.

Django's icontains is `UPPER(message::text) LIKE UPPER(%s)`; a GIN trigram index on that
expression serves it instead of a scan of every log row. pg_trgm ships with PostgreSQL;
if the role may not create the extension, the migration goes on without the index
(the read statement timeout still bounds a search) and says so.
"""
from django.db import migrations

INDEX = "log_message_trgm"
PENDING_LIST_KB = 64 * 1024


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.db import transaction

    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # no privilege: searching still works, unindexed
        print(f"\n  log search stays unindexed: cannot create extension pg_trgm ({exc})")
        return
    # New entries go to the index's pending list (cheap) and are merged in bulk by autovacuum, not by
    # each ingesting transaction; searches read the pending list too, so nothing is missed.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON orchestrator_log USING gin ((UPPER(message::text)) gin_trgm_ops) "
        f"WITH (fastupdate = on, gin_pending_list_limit = {PENDING_LIST_KB})"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("orchestrator", "0005_created_event_conflict"),
    ]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
