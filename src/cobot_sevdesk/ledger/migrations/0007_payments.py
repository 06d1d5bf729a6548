"""Payments both ways: a ledger item kind "payment" with its ``Payment`` row, what each
side last showed as paid on an invoice (``PaidState``), and a space's payment switches
(``PaymentSettings``, both off)."""

import cobot_sevdesk.ledger.models.fields
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0006_books_check"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgeritem",
            name="kind",
            field=models.CharField(
                choices=[("member", "member"), ("invoice", "invoice"), ("payment", "payment")],
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="ledgeritem",
            name="source",
            field=models.CharField(
                choices=[
                    ("webhook", "webhook"),
                    ("reconcile", "reconciliation"),
                    ("backfill", "backfill"),
                    ("dependency", "needed by an invoice"),
                    ("payment", "a payment on an invoice"),
                ],
                default="webhook",
                max_length=12,
            ),
        ),
        migrations.CreateModel(
            name="PaidState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("cobot_cents", models.BigIntegerField(blank=True, null=True)),
                ("cobot_seen_at", models.DateTimeField(blank=True, null=True)),
                ("sevdesk_cents", models.BigIntegerField(blank=True, null=True)),
                ("sevdesk_seen_at", models.DateTimeField(blank=True, null=True)),
                ("settled", models.BooleanField(default=False)),
                (
                    "invoice",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="paid",
                        to="sync.ledgeritem",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="PaymentSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("book_cobot_payments", models.BooleanField(default=False)),
                ("check_account_id", models.BigIntegerField(blank=True, null=True)),
                ("check_account_name", models.CharField(blank=True, max_length=200)),
                ("mark_paid_in_cobot", models.BooleanField(default=False)),
                ("check_due_at", models.DateTimeField(blank=True, null=True)),
                ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                ("last_full_check_at", models.DateTimeField(blank=True, null=True)),
                ("sevdesk_seen_until", models.DateTimeField(blank=True, null=True)),
                (
                    "last_error",
                    cobot_sevdesk.ledger.models.fields.MessageField(blank=True, null=True),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "space",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="payment_settings",
                        to="sync.space",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Payment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "origin",
                    models.CharField(
                        choices=[("cobot", "Cobot"), ("sevdesk", "sevDesk")], max_length=10
                    ),
                ),
                ("amount_cents", models.BigIntegerField()),
                ("currency", models.CharField(blank=True, max_length=3)),
                ("paid_on", models.DateField()),
                ("cobot_record_id", models.CharField(blank=True, max_length=64)),
                (
                    "how",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "not yet"),
                            ("account", "booked in sevDesk"),
                            ("bank_line", "booked on the bank line in sevDesk"),
                            ("recorded", "recorded in Cobot"),
                            ("found", "already there"),
                            ("handled", "handled by an admin"),
                        ],
                        default="",
                        max_length=10,
                    ),
                ),
                ("check_account_id", models.BigIntegerField(blank=True, null=True)),
                ("bank_line_id", models.BigIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "invoice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="payments",
                        to="sync.ledgeritem",
                    ),
                ),
                (
                    "item",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="payment",
                        to="sync.ledgeritem",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("cobot_record_id", ""), _negated=True),
                        fields=("invoice", "cobot_record_id"),
                        name="unique_payment_record",
                    )
                ],
            },
        ),
    ]
