"""Every case of the tax table through the real entry points: a webhook in, and the
receipt with the right tax rule in the sevDesk sandbox, or no receipt and the reason on
the dashboard's attention list and in Cobot's activity feed."""

from __future__ import annotations

import pytest

from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.sync.rules.test_taxes import CASES, Case
from tests.world import make_world

pytestmark = pytest.mark.django_db
State = LedgerItem.State


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tax_case_through_the_webhook(sandboxes: Sandboxes, case: Case) -> None:
    world = make_world(sandboxes, small_business=case.small, country_code=case.space)
    code = "Desks"
    if case.rule == 17:
        # An account the receipt guidance allows rule 17 on (SKR04 4338).
        world.boxes.sevdesk.add_booking_account(world.sevdesk_token, "Abroad", like="4338")
        world.boxes.cobot.add_accounting_code(world.subdomain, "Abroad")
        code = "Abroad"
    recipient = {"name": "Max Muster", "company": "Muster Ltd"}
    if case.country:
        recipient["countryCode"] = case.country
    invoice = world.invoice(
        [invoice_line(f"Item {n}", "100", rate, code) for n, rate in enumerate(case.rates)],
        recipient=recipient,
        tax_id=case.vat,
        customer_number="999",
    )
    item = world.run(world.receive_invoice(invoice))
    if case.rule is not None:
        assert item.state == State.MISMATCH, item.error_text()
        [voucher] = world.vouchers()
        assert voucher["taxRule"]["id"] == case.rule
        return
    assert item.state == State.FAILED and item.error_code == case.refused
    assert case.says in item.error_text()
    assert world.vouchers() == []
    assert not world.boxes.sevdesk.requests(method="POST", path="saveVoucher")
    assert item in world.space.items.needing_attention()
    [posted] = [a for a in world.activities() if a["level"] == "ERROR"]
    assert invoice["attributes"]["number"] in posted["attributes"]["text"]
    assert case.says.split(" because")[0] in posted["attributes"]["text"]
