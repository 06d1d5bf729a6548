"""Every admin-visible reason is stored one way: as a message (English template plus
parameters, JSON), shown in the reader's language. Old rows keep their text."""

from django.db import migrations, models

import cobot_sevdesk.ledger.models.fields


def _as_message(text, data=None):
    if data:
        return data
    return {"t": text, "p": {}} if text else None


def forwards(apps, schema_editor):
    LedgerItem = apps.get_model("sync", "LedgerItem")
    for item in LedgerItem.objects.exclude(last_error="").iterator():
        item.error_new = _as_message(item.last_error, item.last_error_message)
        item.save(update_fields=["error_new"])
    LedgerEvent = apps.get_model("sync", "LedgerEvent")
    for event in LedgerEvent.objects.iterator():
        event.message_new = _as_message(event.message, event.data)
        event.save(update_fields=["message_new"])
    Space = apps.get_model("sync", "Space")
    for space in Space.objects.iterator():
        space.pause_message_new = _as_message(space.pause_message)
        space.last_reconcile_error_new = _as_message(space.last_reconcile_error)
        space.save(update_fields=["pause_message_new", "last_reconcile_error_new"])
    Backfill = apps.get_model("sync", "Backfill")
    for backfill in Backfill.objects.exclude(error="").iterator():
        backfill.error_new = _as_message(backfill.error)
        backfill.save(update_fields=["error_new"])


def message_field():
    return cobot_sevdesk.ledger.models.fields.MessageField(blank=True, null=True)


class Migration(migrations.Migration):
    dependencies = [("sync", "0001_initial")]

    operations = [
        migrations.AddField("ledgeritem", "error_new", message_field()),
        migrations.AddField("ledgerevent", "message_new", message_field()),
        migrations.AddField("space", "pause_message_new", message_field()),
        migrations.AddField("space", "last_reconcile_error_new", message_field()),
        migrations.AddField("backfill", "error_new", message_field()),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField("ledgeritem", "last_error"),
        migrations.RemoveField("ledgeritem", "last_error_message"),
        migrations.RemoveField("ledgerevent", "message"),
        migrations.RemoveField("ledgerevent", "data"),
        migrations.RemoveField("space", "pause_message"),
        migrations.RemoveField("space", "last_reconcile_error"),
        migrations.RemoveField("backfill", "error"),
        migrations.RenameField("ledgeritem", "error_new", "last_error"),
        migrations.RenameField("ledgerevent", "message_new", "message"),
        migrations.RenameField("space", "pause_message_new", "pause_message"),
        migrations.RenameField("space", "last_reconcile_error_new", "last_reconcile_error"),
        migrations.RenameField("backfill", "error_new", "error"),
        migrations.AddField(
            "backfill", "not_before", models.DateTimeField(blank=True, null=True)
        ),
        migrations.AlterField(
            "ledgerevent",
            "message",
            cobot_sevdesk.ledger.models.fields.MessageField(),
        ),
    ]
