"""Messages posted to the space's Cobot activity feed, in the space's language.

Each text is rendered when it is made, so make it inside ``in_space_language`` (the
runtime runs every attempt in it). Parameters are escaped: Cobot shows the text as
HTML. Posting is best effort: a failure to post is logged and never fails the sync.
"""

from __future__ import annotations

import logging
from html import escape

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation

from cobot_sevdesk.errors import AuthorizationError, SyncError
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.messages import Text, _, render
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules.books_report import BooksReport

log = logging.getLogger(__name__)


def item_link(item: LedgerItem) -> str:
    path = reverse("web:item", args=[item.space.subdomain, item.pk])
    return f"{settings.PUBLIC_URL}{path}"


def post(ctx: SpaceContext, text: str, *, level: str | None = None) -> bool:
    """Post ``text`` (HTML allowed, escaped by the callers) to the admin channel."""
    try:
        return ctx.cobot.post_activity(text, level=level)
    except AuthorizationError:
        raise
    except SyncError as exc:
        log.warning("could not post a Cobot activity for %s: %s", ctx.space.subdomain, exc)
        return False


def in_space_language(space: Space) -> translation.override:
    return translation.override(space.language or settings.LANGUAGE_CODE)


def contact_announced(
    member_name: str, contact_name: str, number: str, *, created: bool, written: bool
) -> str:
    """The contact made or linked for a member; "written to the member's profile" only
    when the read-back showed it there."""
    facts = {
        "contact": escape(contact_name),
        "number": escape(number),
        "member": escape(member_name),
    }
    if created:
        text = _(
            "sevDesk: created the contact %(contact)s with customer number %(number)s for the "
            "member %(member)s."
        )
    else:
        text = _(
            "sevDesk: the member %(member)s was linked to the existing sevDesk contact with "
            "customer number %(number)s."
        )
    announced = (text % facts).render()
    if written:
        announced += " " + _("The number was written to the member's profile.").render()
    return announced


def attention_after(item: LedgerItem, announced: str) -> str:
    """An announcement followed by what the admin must do (the item's attention)."""
    assert item.attention is not None
    return (
        _('%(announced)s %(problem)s <a href="%(link)s">Details</a>')
        % {
            "announced": announced,
            "problem": escape(render(item.attention)),
            "link": escape(item_link(item)),
        }
    ).render()


def failure(item: LedgerItem, reason: Text) -> str:
    return (
        _('%(reason)s <a href="%(link)s">Details and retry</a>')
        % {
            "reason": escape(render(reason)),
            "link": escape(item_link(item)),
        }
    ).render()


def attention(item: LedgerItem, reason: Text) -> str:
    return (
        _('sevDesk: %(reason)s <a href="%(link)s">Details</a>')
        % {"reason": escape(render(reason)), "link": escape(item_link(item))}
    ).render()


def receipt_attention(item: LedgerItem, reason: Text, receipt_link: str) -> str:
    return (
        _(
            'sevDesk: %(reason)s <a href="%(receipt)s">Open the receipt in sevDesk</a> · '
            '<a href="%(link)s">Details</a>'
        )
        % {
            "reason": escape(render(reason)),
            "receipt": escape(receipt_link),
            "link": escape(item_link(item)),
        }
    ).render()


def invoice_changed(item: LedgerItem) -> str:
    return (
        _(
            "sevDesk: invoice %(number)s was changed in Cobot after it was sent to sevDesk. "
            "sevDesk was not changed; please correct the receipt there by hand. "
            '<a href="%(link)s">Details</a>'
        )
        % {"number": escape(item.label), "link": escape(item_link(item))}
    ).render()


def space_paused(reason: Text) -> str:
    return (
        _(
            "sevDesk sync is paused: %(reason)s Enter a valid sevDesk API token in the add-on's "
            "settings; syncing resumes by itself, and nothing is lost."
        )
        % {"reason": escape(render(reason))}
    ).render()


def books_link(space: Space, report: BooksReport) -> str:
    path = reverse("web:books", args=[space.subdomain])
    return f"{settings.PUBLIC_URL}{path}?from={report.start}&to={report.end}"


def books_result(space: Space, report: BooksReport) -> str:
    """The monthly books check's result for the admin feed: "the books for February
    2025 match: 1,000 invoices, 23,456.78 EUR" or "... 3 differences, see ..."."""
    month = formats.date_format(report.start, "F Y")
    totals = ", ".join(
        f"{formats.number_format(row.cobot.gross, 2, use_l10n=True, force_grouping=True)} "
        f"{escape(row.currency)}"
        for row in report.totals
    )
    count = sum(row.cobot.count for row in report.totals)
    link = escape(books_link(space, report))
    if report.matches:
        return (
            _(
                "sevDesk: the books for %(month)s match: %(count)s invoices, %(totals)s. "
                '<a href="%(link)s">Details</a>'
            )
            % {"month": month, "count": count, "totals": totals or "0", "link": link}
        ).render()
    return (
        _(
            "sevDesk: the books for %(month)s do not match: %(differences)s differences "
            'between Cobot and sevDesk. <a href="%(link)s">See the differences</a>'
        )
        % {"month": month, "differences": len(report.differences), "link": link}
    ).render()
