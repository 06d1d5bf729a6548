"""Books that match Cobot: the write-back of customer numbers and the "Import" tag
become settings (both on, as before for the write-back and as Cobot's own add-on does
for the tag), and each item keeps what Cobot sent and what was sent to sevDesk."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sync", "0007_payments")]

    operations = [
        migrations.AddField("space", "write_back_numbers", models.BooleanField(default=True)),
        migrations.AddField("space", "tag_import", models.BooleanField(default=True)),
        migrations.AddField(
            "ledgeritem", "cobot_data", models.JSONField(blank=True, null=True)
        ),
        migrations.AddField(
            "ledgeritem", "sevdesk_data", models.JSONField(blank=True, null=True)
        ),
    ]
