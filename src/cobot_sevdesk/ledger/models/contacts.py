"""The sevDesk contacts we know, so invoices need no contact look-up."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from cobot_sevdesk.ledger.models.space import Space


class ContactLink(models.Model):
    """A sevDesk contact we know, by customer number (and member, when we made it).

    Saves the contact lookup for every invoice; unique per space and number, and per
    space and membership.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="contact_links")
    customer_number = models.CharField(max_length=60)
    sevdesk_contact_id = models.BigIntegerField()
    membership_id = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "sync"
        constraints = [
            models.UniqueConstraint(
                fields=["space", "customer_number"], name="unique_contact_number"
            ),
            models.UniqueConstraint(
                fields=["space", "membership_id"],
                condition=~Q(membership_id=""),
                name="unique_contact_membership",
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_number} = sevDesk contact {self.sevdesk_contact_id}"
