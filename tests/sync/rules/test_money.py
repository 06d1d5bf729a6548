"""Receipt sums equal invoice sums to the cent, for any invoice (property-based).

The invoices' amounts come from our model of Cobot's rounding
(``cobot_sevdesk.sandbox.rounding``), the same the Cobot sandbox uses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobot_sevdesk.cobot.models import parse_invoice
from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.payload import Reader
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sandbox.rounding import invoice_amounts
from cobot_sevdesk.sync.rules.money import CENT, receipt_amounts
from tests.world import make_world

RATES = ["0", "7", "19"]


def price(min_cents: int = -50_000, max_cents: int = 500_000) -> st.SearchStrategy[str]:
    """Unit prices with up to four decimals (Cobot allows more than cents on units)."""
    return st.one_of(
        st.integers(min_cents, max_cents).map(lambda c: str(Decimal(c) / 100)),
        st.integers(min_cents * 100, max_cents * 100).map(lambda c: str(Decimal(c) / 10_000)),
    )


quantity = st.one_of(
    st.integers(1, 12).map(str),
    st.sampled_from(["0.5", "1.5", "0.25", "2.333", "0.1", "7.75", "-1"]),
)

line = st.fixed_dictionaries(
    {
        "description": st.text(min_size=1, max_size=20),
        "quantity": quantity,
        "unit_net": price(),
        "tax_rate": st.sampled_from(RATES),
        "accounting_code": st.just("Desks"),
    }
)
invoice_lines = st.lists(line, min_size=1, max_size=40)


def as_invoice(lines: list[dict[str, Any]]) -> Any:
    amounts = invoice_amounts(lines)
    items = [
        {
            "description": line["description"],
            "quantity": format(amount.quantity, "f"),
            "accountingCode": line["accounting_code"],
            "amount": amount.unit_json("EUR"),
            "totalAmount": amount.total_json("EUR"),
        }
        for line, amount in zip(lines, amounts.lines, strict=True)
    ]
    data = {
        "id": "inv1",
        "type": "invoices",
        "attributes": {
            "number": "T-1",
            "invoiceDate": "2026-03-01",
            "dueDate": "2026-03-15",
            "customerNumber": None,
            "taxId": None,
            "recipientAddress": {"name": "X", "company": None, "countryCode": "DE"},
            "items": items,
            "totalAmount": amounts.total_json("EUR"),
        },
    }
    return parse_invoice(Reader(data, "Cobot"))


@given(invoice_lines)
@settings(max_examples=400, deadline=None)
def test_receipt_lines_add_up_to_the_invoice_per_rate_and_in_total(
    lines: list[dict[str, Any]],
) -> None:
    invoice = as_invoice(lines)
    amounts = receipt_amounts(invoice)
    assert sum(a.gross for a in amounts) == invoice.total.gross
    for amount, cobot_line in zip(amounts, invoice.lines, strict=True):
        assert amount.gross == amount.gross.quantize(CENT)
        assert amount.rate == cobot_line.total.rate
    for rate in {a.rate for a in amounts}:
        net = sum(line.total.net for line in invoice.lines if line.total.rate == rate)
        tax = sum(t.amount for t in invoice.total.taxes if t.rate == rate)
        assert sum(a.gross for a in amounts if a.rate == rate) == net + tax
    # Every position stays within a cent per line of Cobot's own line gross.
    adjusted = [a.gross - line.total.gross for a, line in zip(amounts, invoice.lines, strict=True)]
    assert sum(abs(d) for d in adjusted) <= CENT * len(lines)


@given(invoice_lines)
@settings(max_examples=100, deadline=None)
def test_an_invoice_whose_numbers_do_not_fit_is_refused_not_booked(
    lines: list[dict[str, Any]],
) -> None:
    invoice = as_invoice(lines)
    broken = invoice.__class__(
        **{
            **invoice.__dict__,
            "total": invoice.total.__class__(
                net=invoice.total.net,
                gross=invoice.total.gross + Decimal("0.05"),
                currency="EUR",
                taxes=invoice.total.taxes,
            ),
        }
    )
    with pytest.raises(BusinessRuleError) as err:
        receipt_amounts(broken)
    assert err.value.code == "inconsistent_invoice"


@pytest.mark.django_db
@given(st.lists(line, min_size=1, max_size=12))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_receipts_in_sevdesk_match_invoices_in_cobot(
    sandboxes: Sandboxes, lines: list[dict[str, Any]]
) -> None:
    """End to end over HTTP: what sevDesk stores equals what Cobot billed."""
    sandboxes.reset()
    LedgerItem.objects.all().delete()
    from cobot_sevdesk.ledger.models import Space

    Space.objects.all().delete()
    world = make_world(sandboxes)
    invoice = world.invoice(lines)
    item = world.run(world.receive_invoice(invoice))
    assert item.state == LedgerItem.State.MISMATCH, item.error_text()
    [voucher] = world.vouchers()
    assert Decimal(voucher["sumGross"]) == Decimal(invoice["attributes"]["totalAmount"]["gross"])
    assert Decimal(voucher["sumNet"]) + Decimal(voucher["sumTax"]) == Decimal(voucher["sumGross"])
