"""Books checks: Cobot's invoices of a period against sevDesk's receipts, asked for or
run once after each month's end, with their result."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import cobot_sevdesk.ledger.models.fields


class Migration(migrations.Migration):
    dependencies = [("sync", "0005_webhook_secret_encrypted")]

    operations = [
        migrations.CreateModel(
            name="BooksCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("start_date", models.DateField()),
                ("end_date", models.DateField()),
                (
                    "trigger",
                    models.CharField(
                        choices=[
                            ("requested", "asked for on the dashboard"),
                            ("monthly", "after the month's end"),
                            ("command", "from the command line"),
                        ],
                        max_length=10,
                    ),
                ),
                ("requested_by", models.CharField(blank=True, max_length=200)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("queued", "queued"),
                            ("running", "running"),
                            ("done", "done"),
                            ("failed", "failed"),
                        ],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("result", models.JSONField(blank=True, null=True)),
                ("differences", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "error",
                    cobot_sevdesk.ledger.models.fields.MessageField(blank=True, null=True),
                ),
                ("not_before", models.DateTimeField(blank=True, null=True)),
                ("posted", models.BooleanField(null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "space",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="books_checks",
                        to="sync.space",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["space", "start_date", "end_date"],
                        name="sync_booksc_space_i_df48b2_idx",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("trigger", "monthly")),
                        fields=("space", "start_date", "end_date"),
                        name="one_monthly_books_check",
                    )
                ],
            },
        ),
    ]
