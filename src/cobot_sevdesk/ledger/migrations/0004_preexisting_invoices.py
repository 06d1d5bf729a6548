"""Invoices that existed when a space was connected are noted, so the periodic check
can tell an invoice created later (whose webhook was lost) by its absence, whatever
its invoice date. Spaces connected before this migration have theirs noted by the
worker's next turn (``baseline_at`` is empty)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sync", "0003_amount_in_cents_and_attention")]

    operations = [
        migrations.AddField("space", "baseline_at", models.DateTimeField(blank=True, null=True)),
        migrations.CreateModel(
            name="PreexistingInvoice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("cobot_id", models.CharField(max_length=64)),
                (
                    "space",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="preexisting",
                        to="sync.space",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("space", "cobot_id"), name="unique_preexisting")
                ]
            },
        ),
    ]
