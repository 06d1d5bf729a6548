"""Invoice amounts are stored as integer cents: SQLite stored the decimal column as a
float, and an absurd amount could then not be read back (every page of the space
failed). Amounts too large for 64 bits of cents are dropped (shown as unknown).
Items get a "needs your attention" reason, shown until the admin marks it handled."""

from django.db import migrations, models

import cobot_sevdesk.ledger.models.fields

LIMIT = 90_000_000_000_000_000  # cents; well inside a signed 64-bit integer


def forwards(apps, schema_editor):
    table = apps.get_model("sync", "LedgerItem")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        # Plain SQL: reading the old column through the model would fail on exactly
        # the values this migration is for.
        cursor.execute(
            f"UPDATE {table} SET amount_cents = CAST(ROUND(amount * 100) AS BIGINT) "  # noqa: S608
            "WHERE amount IS NOT NULL AND ABS(amount) * 100 < %s",
            [LIMIT],
        )


class Migration(migrations.Migration):
    dependencies = [("sync", "0002_messages_and_backfill_delay")]

    operations = [
        migrations.AddField("ledgeritem", "amount_cents", models.BigIntegerField(blank=True, null=True)),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField("ledgeritem", "amount"),
        migrations.AddField(
            "ledgeritem",
            "attention",
            cobot_sevdesk.ledger.models.fields.MessageField(blank=True, null=True),
        ),
    ]
