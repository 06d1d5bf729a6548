"""Webhook secrets are stored encrypted (like the tokens) instead of in plain text.

Spaces are still looked up by ``webhook_key`` (the secret's SHA-256, unchanged), so
the callback URLs Cobot holds keep working. Going back decrypts them again. Both
directions need ``FERNET_KEYS`` when there are spaces.
"""

from django.db import migrations, models


def encrypt_secrets(apps, schema_editor):
    from cobot_sevdesk import crypto

    Space = apps.get_model("sync", "Space")
    for space in Space.objects.exclude(webhook_secret="").iterator():
        space.webhook_secret_encrypted = crypto.encrypt(space.webhook_secret)
        space.save(update_fields=["webhook_secret_encrypted"])


def decrypt_secrets(apps, schema_editor):
    from cobot_sevdesk import crypto

    Space = apps.get_model("sync", "Space")
    for space in Space.objects.exclude(webhook_secret_encrypted="").iterator():
        space.webhook_secret = crypto.decrypt(space.webhook_secret_encrypted)
        space.save(update_fields=["webhook_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0004_preexisting_invoices"),
    ]

    operations = [
        migrations.AddField(
            model_name="space",
            name="webhook_secret_encrypted",
            field=models.TextField(blank=True, default=""),
        ),
        # Without its unique constraint and generated default first, so that going
        # back can add the column again to a table that has rows.
        migrations.AlterField(
            model_name="space",
            name="webhook_secret",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
        migrations.RemoveField(model_name="space", name="webhook_secret"),
    ]
