"""The books check's pages: a space's check of a month (or any range) with both
sides' sums per tax rate and every difference, the button that queues a check, its
status for the page to poll, and the CSV download.

A check runs in the worker, not in the request: it reads Cobot under the space's
request budget, which only the holder of the space's lease spends, and an account
with a long history can make sevDesk's positions many calls (docs/DECISIONS.md has
the measurements). The page shows the result within seconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from cobot_sevdesk.ledger.models import BooksCheck, Space
from cobot_sevdesk.runtime.tasks import wake_space
from cobot_sevdesk.sync import books
from cobot_sevdesk.sync.rules.books_report import (
    DELTA_FIELDS,
    DELTA_HEADERS,
    SUM_FIELDS,
    SUM_HEADERS,
    BooksReport,
    Difference,
    RateRow,
)
from cobot_sevdesk.web.access import space_view

#: The longest range one check may cover (a year and a day: any calendar year).
MAX_DAYS = 366


def period_from(request: HttpRequest, data: dict[str, str]) -> books.Period:
    """The period asked for: ``month`` (YYYY-MM) or ``from``/``to`` (YYYY-MM-DD); the
    previous month when none is given or it cannot be read (with a message)."""
    try:
        if data.get("from") and data.get("to"):
            period = books.Period(
                dt.date.fromisoformat(data["from"]), dt.date.fromisoformat(data["to"])
            )
            if period.end < period.start or (period.end - period.start).days >= MAX_DAYS:
                raise ValueError("range")
            return period
        if data.get("month"):
            return books.month(data["month"])
    except ValueError:
        messages.error(
            request,
            gettext(
                "Choose a month, or a range of at most %(days)s days whose end is not "
                "before its start."
            )
            % {"days": MAX_DAYS},
        )
    return books.previous_month(timezone.localdate())


def _number(value: int | Decimal | None, field: str) -> str:
    """A sum for the reader; empty where it is not compared (paid in a rate's row)."""
    if value is None:
        return ""
    decimals = 0 if field == "count" else 2
    return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)


def _text(value: int | Decimal | None) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Row:
    """One line of the sums table, formatted for the reader."""

    currency: str
    rate: str  # "19 %", or "" for all rates
    cobot: list[str]
    sevdesk: list[str]
    #: sevDesk minus Cobot, for each of ``DELTA_FIELDS``.
    deltas: list[str]
    differs: bool
    is_total: bool


def rows(report: BooksReport) -> list[Row]:
    def row(r: RateRow) -> Row:
        return Row(
            currency=r.currency,
            rate=f"{r.rate} %" if r.rate is not None else "",
            cobot=[_number(r.cobot.value(f), f) for f in SUM_FIELDS],
            sevdesk=[_number(r.sevdesk.value(f), f) for f in SUM_FIELDS],
            deltas=[_number(r.delta(f), f) for f in DELTA_FIELDS],
            differs=r.differs,
            is_total=r.rate is None,
        )

    return [row(r) for r in report.rows]


def item_url(space: Space, difference: Difference) -> str:
    if difference.item_id is None:
        return ""
    return reverse("web:item", args=[space.subdomain, difference.item_id])


@space_view
def books_page(request: HttpRequest, space: Space) -> HttpResponse:
    period = period_from(request, request.GET.dict())
    check = BooksCheck.latest(space, period.start, period.end)
    if request.GET.get("check", "").isdigit():
        check = get_object_or_404(space.books_checks, pk=int(request.GET["check"]))
        period = books.Period(check.start_date, check.end_date)
    report = BooksReport.from_json(check.result) if check and check.result else None
    return render(
        request,
        "web/books.html",
        {
            "space": space,
            "period": period,
            "month": period.start.strftime("%Y-%m"),
            "check": check,
            "report": report,
            "headers": [SUM_HEADERS[f] for f in SUM_FIELDS],
            "delta_headers": [DELTA_HEADERS[f] for f in DELTA_FIELDS],
            "rows": rows(report) if report else [],
            "differences": [(d, item_url(space, d)) for d in report.differences] if report else [],
            "notes": [(d, item_url(space, d)) for d in report.notes] if report else [],
            "recent": space.books_checks.order_by("-id")[:10],
        },
    )


@space_view
@require_POST
def run_books_check(request: HttpRequest, space: Space) -> HttpResponse:
    period = period_from(request, request.POST.dict())
    who = getattr(request.user, "email", "") or str(request.user)
    check = BooksCheck.request(
        space, period.start, period.end, trigger=BooksCheck.Trigger.REQUESTED, by=who
    )
    wake_space(space.pk)
    url = reverse("web:books", args=[space.subdomain])
    return redirect(f"{url}?check={check.pk}")


@space_view
def books_status(request: HttpRequest, space: Space, check_id: int) -> HttpResponse:
    check = get_object_or_404(space.books_checks, pk=check_id)
    return JsonResponse(
        {"state": check.state, "differences": check.differences, "active": check.is_active}
    )


@space_view
def books_csv(request: HttpRequest, space: Space, check_id: int) -> HttpResponse:
    """One table: the sums per rate and in total, then each difference and note, with
    the column headers in the reader's language."""
    check = get_object_or_404(space.books_checks, pk=check_id, state=BooksCheck.State.DONE)
    report = BooksReport.from_json(check.result or {})
    sides = (("Cobot", "cobot"), ("sevDesk", "sevdesk"))
    header = [
        gettext("Row"),
        gettext("Currency"),
        gettext("Rate"),
        gettext("Document number"),
        gettext("Cause"),
    ]
    header += [f"{side} {SUM_HEADERS[f].render()}" for side, _key in sides for f in SUM_FIELDS]
    header += [DELTA_HEADERS[f].render() for f in DELTA_FIELDS]
    header += [gettext("sevDesk receipt ids"), gettext("Link")]
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer = csv.writer(out)
    writer.writerow(header)

    def amounts(d: Difference) -> list[str]:
        """A difference's amounts on each side (gross, paid) in the sums' columns."""
        return [_text(d.amount(f, side)) for _name, side in sides for f in SUM_FIELDS]

    for r in report.rows:
        writer.writerow(
            [
                gettext("total") if r.rate is None else gettext("rate"),
                r.currency,
                r.rate or "",
                "",
                "",
                *[_text(r.cobot.value(f)) for f in SUM_FIELDS],
                *[_text(r.sevdesk.value(f)) for f in SUM_FIELDS],
                *[_text(r.delta(f)) for f in DELTA_FIELDS],
                "",
                "",
            ]
        )
    base = request.build_absolute_uri("/").rstrip("/")
    for kind, found in (
        (gettext("difference"), report.differences),
        (gettext("note"), report.notes),
    ):
        for d in found:
            cause = " ".join([d.cause.render(), *(detail.render() for detail in d.details)])
            link = item_url(space, d)
            writer.writerow(
                [
                    kind,
                    d.currency,
                    "",
                    d.number,
                    cause,
                    *amounts(d),
                    *[_text(d.delta(f)) for f in DELTA_FIELDS],
                    " ".join(str(v) for v in d.voucher_ids),
                    f"{base}{link}" if link else "",
                ]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"books-{space.subdomain}-{check.start_date}-{check.end_date}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
