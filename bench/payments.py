"""The payments scenario: what a payment costs in Cobot and sevDesk calls, each way.

Spaces with both payment switches on and synced invoices. Then, with the request logs
cleared before each phase:

A. a third of the invoices are paid in Cobot (a card charge, ten per second): Cobot's
   ``updated_invoice`` webhook brings each, the worker books it on the receipt in sevDesk;
B. another third are paid in sevDesk (the bookkeeper books them), the periodic check
   (made due at once) finds them and records each in Cobot; Cobot's webhooks for our
   own records come back and are recognised;
C. one more periodic check with nothing new (the last third is still unpaid, so
   watched): its cost per space.
"""

from __future__ import annotations

import time
from typing import Any

from cobot_sevdesk.sandbox.control import Sandboxes

from .env import Env, Space, environment, percentile
from .scenarios import calls, final_count, wait_for

Result = dict[str, Any]


def _enable(env: Env, space: Space) -> None:
    from cobot_sevdesk.ledger.models import PaymentSettings
    from cobot_sevdesk.ledger.models import Space as SpaceRow
    from cobot_sevdesk.sevdesk.client import SevdeskClient

    client = SevdeskClient(space.sevdesk_token, base_url=env.boxes.sevdesk.base_url)
    clearing = client.create_clearing_account("Cobot payments", 1460)
    PaymentSettings(space=SpaceRow.objects.get(pk=space.pk)).choose(
        book=True, account_id=clearing.id, account_name=clearing.name, mark=True
    )


def _payments_done(origin: str) -> int:
    from cobot_sevdesk.ledger.models import LedgerItem, Payment

    return Payment.objects.filter(origin=origin, item__state__in=LedgerItem.FINAL_STATES).count()


def _quiet(boxes: Sandboxes, webhooks: int) -> bool:
    """Every expected webhook delivered and handled: nothing left to re-check."""
    from cobot_sevdesk.ledger.models import LedgerItem

    fired = [d for d in boxes.cobot.deliveries() if d["event"] == "updated_invoice"]
    return (
        len(fired) >= webhooks
        and all(d["state"] == "delivered" for d in fired)
        and not LedgerItem.objects.filter(recheck=True).exists()
        and not LedgerItem.objects.filter(state__in=LedgerItem.OPEN_STATES).exists()
    )


def _check_all_spaces() -> float:
    from django.utils import timezone

    from cobot_sevdesk.ledger.models import PaymentSettings

    started = time.time()
    PaymentSettings.objects.update(check_due_at=timezone.now())
    return started


def _checked_since(moment: float) -> bool:
    from cobot_sevdesk.ledger.models import PaymentSettings

    return not PaymentSettings.objects.filter(last_checked_at__lt=_aware(moment)).exists()


def _aware(moment: float) -> Any:
    import datetime as dt

    return dt.datetime.fromtimestamp(moment, tz=dt.UTC)


def _per(counted: dict[str, int], n: int) -> dict[str, float]:
    return {"cobot_api": counted["cobot_api"] / n, "sevdesk": counted["sevdesk"] / n}


def payments(database: str, quick: bool) -> Result:
    spaces_n, per_space = (4, 9) if quick else (10, 30)
    settings = {"COBOT_REQUESTS_PER_MINUTE": "1000000", "SWEEP_INTERVAL": "0.5"}
    with environment(database, settings=settings) as env:
        spaces = [env.add_space(f"pay-{n}") for n in range(spaces_n)]
        env.start_web()
        for space in spaces:
            _enable(env, space)
        created = {
            s.subdomain: [env.invoice(s.subdomain) for _ in range(per_space)] for s in spaces
        }
        total = spaces_n * per_space
        env.start_workers(1, threads=8)
        assert wait_for(lambda: final_count() == total, 300), "invoices not synced"
        assert wait_for(lambda: _checked_since(0), 60), "first payment check not done"
        third = per_space // 3
        webhooks = len([d for d in env.boxes.cobot.deliveries() if d["event"] == "updated_invoice"])

        # A. Paid in Cobot -> booked in sevDesk.
        env.boxes.cobot.clear_requests()
        env.boxes.sevdesk.clear_requests()
        paid_at: dict[str, float] = {}
        for space in spaces:
            for invoice in created[space.subdomain][:third]:
                paid_at[f"{space.sevdesk_token}:{invoice['attributes']['number']}"] = time.time()
                env.boxes.cobot.pay_invoice(space.subdomain, invoice["id"], charge=True)
                time.sleep(0.1)
        n_a = spaces_n * third
        webhooks += n_a
        complete_a = wait_for(lambda: _payments_done("cobot") == n_a, 300)
        wait_for(lambda: _quiet(env.boxes, webhooks), 60)
        counted_a = calls(env)
        latencies = _booking_latencies(env, paid_at)
        bookings = len(env.boxes.sevdesk.requests(method="PUT", path="bookAmount"))

        # B. Paid in sevDesk -> recorded in Cobot, found by the periodic check.
        env.boxes.cobot.clear_requests()
        env.boxes.sevdesk.clear_requests()
        for space in spaces:
            numbers = {
                i["attributes"]["number"] for i in created[space.subdomain][third : 2 * third]
            }
            for voucher in env.boxes.sevdesk.state(space.sevdesk_token)["vouchers"]:
                if voucher["description"] in numbers:
                    env.boxes.sevdesk.pay_voucher(space.sevdesk_token, voucher["id"])
        n_b = spaces_n * third
        webhooks += n_b
        triggered = _check_all_spaces()
        complete_b = wait_for(lambda: _payments_done("sevdesk") == n_b, 300)
        recorded_after = time.time() - triggered
        wait_for(lambda: _quiet(env.boxes, webhooks), 60)
        counted_b = calls(env)

        # C. A check with nothing new.
        env.boxes.cobot.clear_requests()
        env.boxes.sevdesk.clear_requests()
        idle = _check_all_spaces()
        wait_for(lambda: _checked_since(idle), 60)
        counted_c = calls(env)

        from cobot_sevdesk.ledger.models import Payment

        return {
            "database": database,
            "spaces": spaces_n,
            "invoices": total,
            "paid_in_cobot": n_a,
            "paid_in_sevdesk": n_b,
            "complete": complete_a and complete_b,
            "payments_in_ledger": Payment.objects.count(),
            "cobot_to_sevdesk_per_payment": _per(counted_a, n_a),
            "sevdesk_to_cobot_per_payment": _per(counted_b, n_b),
            "idle_check_per_space": _per(counted_c, spaces_n),
            "cobot_to_sevdesk_p50_s": percentile(latencies, 50),
            "cobot_to_sevdesk_p99_s": percentile(latencies, 99),
            "sevdesk_to_cobot_all_recorded_s": recorded_after,
            "watched_unpaid_per_space": per_space - 2 * third,
            "bookings": bookings,
        }


def _booking_latencies(env: Env, paid_at: dict[str, float]) -> list[float]:
    """Seconds from the payment in Cobot to its booking in sevDesk."""
    numbers: dict[str, str] = {}
    for space in env.spaces:
        for voucher in env.boxes.sevdesk.state(space.sevdesk_token)["vouchers"]:
            numbers[f"{space.sevdesk_token}:{voucher['id']}"] = voucher["description"]
    found = []
    for logged in env.boxes.sevdesk.requests(method="PUT", path="bookAmount"):
        voucher_id = logged["path"].split("/")[2]
        key = f"{logged['headers']['authorization']}:{voucher_id}"
        start = paid_at.get(f"{logged['headers']['authorization']}:{numbers.get(key)}")
        if start is not None and logged["status"] == 200:
            found.append(logged["at"] - start)
    return sorted(found)
