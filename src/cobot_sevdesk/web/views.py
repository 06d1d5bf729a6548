"""The add-on's pages for one space: settings (with the booking-code check), the
dashboard, item details, retries, backfills, disconnect. All go through
``access.space_view``."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from cobot_sevdesk.crypto import mask
from cobot_sevdesk.errors import SyncError
from cobot_sevdesk.ledger.models import Backfill, LedgerItem, Space
from cobot_sevdesk.messages import render as render_text
from cobot_sevdesk.runtime.tasks import wake_space
from cobot_sevdesk.sevdesk.models import receipt_url
from cobot_sevdesk.sync.context import SpaceContext, clear_caches
from cobot_sevdesk.sync.payments import handled_by_admin
from cobot_sevdesk.sync.reconcile import take_baseline
from cobot_sevdesk.sync.rules.mapping import match_account
from cobot_sevdesk.sync.subscriptions import ensure_subscriptions, remove_subscriptions
from cobot_sevdesk.web.access import space_view
from cobot_sevdesk.web.forms import BackfillForm, SettingsForm
from cobot_sevdesk.web.webhooks import forget_space

log = logging.getLogger(__name__)
State = LedgerItem.State
PAGE_SIZE = 50


@dataclass(frozen=True)
class CodeCheck:
    code: str
    account: str | None  # "4400 Erlöse 19 % USt", or None when nothing matches


def booking_code_check(space: Space) -> tuple[list[CodeCheck], str]:
    """Cobot's accounting codes next to the sevDesk accounts they match; an error
    message instead when either side cannot be read."""
    if not space.sevdesk_token_encrypted:
        return [], ""
    ctx = SpaceContext(space)
    try:
        codes = ctx.cobot.list_accounting_codes()
        accounts = ctx.revenue_accounts(refresh=True)
    except SyncError as exc:
        return [], render_text(exc.admin_message)
    rows = []
    for code in sorted(codes, key=lambda c: c.name.casefold()):
        account = match_account(code.name, accounts)
        rows.append(CodeCheck(code.name, f"{account.number} {account.name}" if account else None))
    return rows, ""


@space_view
def settings_view(request: HttpRequest, space: Space) -> HttpResponse:
    if request.method == "POST":
        form = SettingsForm(request.POST, space=space)
        if form.is_valid():
            _save_settings(request, space, form.cleaned_data)
            return redirect("web:dashboard", space.subdomain)
    else:
        form = SettingsForm(
            space=space,
            initial={
                "cost_centre_number": space.cost_centre_number,
                "due_days": space.due_days,
                "small_business": space.small_business,
                "write_back_numbers": space.write_back_numbers,
                "tag_import": space.tag_import,
            },
        )
    checks, check_error = booking_code_check(space)
    return render(
        request,
        "web/settings.html",
        {
            "space": space,
            "form": form,
            "checks": checks,
            "check_error": check_error,
            "unmatched": [c for c in checks if c.account is None],
            "token_masked": mask(space.sevdesk_token) if space.sevdesk_token_encrypted else "",
        },
    )


def _save_settings(request: HttpRequest, space: Space, data: dict[str, Any]) -> None:
    first_time = not space.sevdesk_token_encrypted or space.connected_at is None
    space.sevdesk_token = data["sevdesk_token"]
    space.cost_centre_number = data["cost_centre_number"]
    space.due_days = data["due_days"]
    space.small_business = data["small_business"]
    space.write_back_numbers = data["write_back_numbers"]
    space.tag_import = data["tag_import"]
    space.sevdesk_token_ok = True
    now = timezone.now()
    if first_time:
        space.connected_at = now
        space.baseline_at = None
        # The first check, like every later one, after RECONCILE_INTERVAL.
        space.reconcile_due_at = now + dt.timedelta(seconds=settings.RECONCILE_INTERVAL)
    space.save()
    # The token works (the form checked it): a pause for a refused token ends now.
    space.resume(only=(Space.PauseReason.SEVDESK_AUTH,))
    clear_caches()
    ctx = SpaceContext(space)
    if first_time:
        try:
            # Before the webhooks exist: every invoice not noted now is a new one.
            take_baseline(ctx)
        except SyncError as exc:
            # The worker notes them first thing instead (a gap of seconds).
            log.warning("noting the invoices of %s: %s", space.subdomain, exc)
    try:
        ensure_subscriptions(ctx)
    except SyncError as exc:
        log.warning("subscriptions for %s: %s", space.subdomain, exc)
        Space.objects.filter(pk=space.pk).update(webhooks_ok=False)
        messages.warning(
            request,
            gettext(
                "Saved, but the Cobot webhooks could not be set up yet (%(error)s). "
                "They are retried automatically."
            )
            % {"error": render_text(exc.admin_message)},
        )
    else:
        messages.success(request, gettext("Saved. New members and invoices now go to sevDesk."))
    wake_space(space.pk)


@space_view
@require_POST
def disconnect(request: HttpRequest, space: Space) -> HttpResponse:
    try:
        remove_subscriptions(SpaceContext(space))
    except SyncError as exc:
        # Cobot switches the rest off by itself: we answer their webhooks with 410.
        log.warning("removing subscriptions of %s: %s", space.subdomain, exc)
    space.disconnect()
    forget_space(space)
    messages.success(
        request,
        gettext("Disconnected. Nothing more is sent to sevDesk; the sevDesk token was deleted."),
    )
    return redirect("web:spaces")


def _counts(space: Space) -> dict[str, int]:
    rows = space.items.values("state").annotate(n=Count("id"))
    counts = dict.fromkeys(State.values, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


@space_view
def dashboard(request: HttpRequest, space: Space) -> HttpResponse:
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    # NUL cannot be stored or searched in PostgreSQL text: it is never part of a label.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    items = space.items.select_related("paid").order_by("-created_at", "-id")
    if state in State.values:
        items = items.filter(state=state)
    if kind in LedgerItem.Kind.values:
        items = items.filter(kind=kind)
    if query:
        items = items.filter(
            Q(label__icontains=query) | Q(customer_number__icontains=query) | Q(cobot_id=query)
        )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = _counts(space)
    attention = space.items.needing_attention()
    needs_admin = attention.order_by("-updated_at")[:5]
    running_backfill = Backfill.active_for(space.pk)
    last_backfill = running_backfill or space.backfills.order_by("-id").first()
    return render(
        request,
        "web/dashboard.html",
        {
            "space": space,
            "page": page,
            "counts": counts,
            "total": sum(counts.values()),
            "states": State.choices,
            "state": state,
            "kind": kind,
            "q": query,
            "needs_admin": needs_admin,
            "needs_admin_count": attention.count(),
            "backfill": last_backfill,
            "backfill_progress": last_backfill.progress() if last_backfill else None,
            "backfill_form": BackfillForm(),
            "books_check": space.books_checks.filter(state="done").order_by("-id").first(),
        },
    )


@space_view
def item_detail(request: HttpRequest, space: Space, item_id: int) -> HttpResponse:
    item = get_object_or_404(space.items, pk=item_id)
    return render(
        request,
        "web/item.html",
        {
            "space": space,
            "item": item,
            "receipt_url": (
                receipt_url(settings.SEVDESK_URL, item.sevdesk_voucher_id)
                if item.sevdesk_voucher_id
                else ""
            ),
            # The audit trail, as readable JSON (kept without secrets: ``LedgerItem.keep``).
            "cobot_json": _pretty(item.cobot_data),
            "sevdesk_json": _pretty(item.sevdesk_data),
        },
    )


def _pretty(data: Any) -> str:
    return "" if data is None else json.dumps(data, indent=2, ensure_ascii=False)


@space_view
@require_POST
def retry_item(request: HttpRequest, space: Space, item_id: int) -> HttpResponse:
    item = get_object_or_404(space.items, pk=item_id)
    if item.retry():
        wake_space(space.pk)
        messages.success(
            request,
            gettext("%(label)s will be sent again in a moment.")
            % {"label": item.label or item.cobot_id},
        )
    return redirect("web:item", space.subdomain, item.pk)


def _who(request: HttpRequest) -> str:
    """How the history names the admin who did something."""
    return getattr(request.user, "email", "") or str(request.user)


@space_view
@require_POST
def skip_item(request: HttpRequest, space: Space, item_id: int) -> HttpResponse:
    """The admin decides an item is not to be sent (it then holds nothing up)."""
    item = get_object_or_404(space.items, pk=item_id)
    if item.skip(_who(request), request.POST.get("reason", "")[:300]):
        messages.success(
            request,
            gettext("%(label)s is skipped: it will not be sent to sevDesk.")
            % {"label": item.label or item.cobot_id},
        )
    else:
        messages.error(
            request,
            gettext("%(label)s cannot be skipped now (it is being sent, or already done).")
            % {"label": item.label or item.cobot_id},
        )
    return redirect("web:item", space.subdomain, item.pk)


@space_view
@require_POST
def handled_item(request: HttpRequest, space: Space, item_id: int) -> HttpResponse:
    """The admin dealt with what the item needed (e.g. deleted a duplicate in sevDesk)."""
    item = get_object_or_404(space.items, pk=item_id)
    if item.attention_handled(_who(request)):
        if item.kind == LedgerItem.Kind.PAYMENT:
            handled_by_admin(item)  # a held payment: the admin saw to it on the other side
        messages.success(request, gettext("Marked as handled."))
    return redirect("web:item", space.subdomain, item.pk)


@space_view
@require_POST
def retry_failed(request: HttpRequest, space: Space) -> HttpResponse:
    count = space.items.retry_failed()
    if count:
        wake_space(space.pk)
    messages.success(
        request, gettext("%(count)s failed item(s) will be sent again.") % {"count": count}
    )
    return redirect("web:dashboard", space.subdomain)


@space_view
@require_POST
def start_backfill(request: HttpRequest, space: Space) -> HttpResponse:
    form = BackfillForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("web:dashboard", space.subdomain)
    if Backfill.active_for(space.pk) is not None:
        messages.error(request, gettext("A backfill is already running for this space."))
        return redirect("web:dashboard", space.subdomain)
    job = Backfill.objects.create(
        space=space,
        start_date=form.cleaned_data["start_date"],
        end_date=form.cleaned_data["end_date"],
        include_members=form.cleaned_data["include_members"],
        dry_run=request.POST.get("action") != "run",
    )
    wake_space(space.pk)
    return redirect("web:backfill", space.subdomain, job.pk)


@space_view
def backfill_detail(request: HttpRequest, space: Space, backfill_id: int) -> HttpResponse:
    job = get_object_or_404(space.backfills, pk=backfill_id)
    if request.GET.get("format") == "json":
        return JsonResponse(job.progress())
    return render(
        request, "web/backfill.html", {"space": space, "job": job, "progress": job.progress()}
    )


@space_view
@require_POST
def cancel_backfill(request: HttpRequest, space: Space, backfill_id: int) -> HttpResponse:
    job = get_object_or_404(space.backfills, pk=backfill_id)
    job.cancel()
    return redirect("web:backfill", space.subdomain, job.pk)
