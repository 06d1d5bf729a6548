"""Receipts equal invoices to the cent per tax rate: net, tax and gross (property-based).

The invoices' amounts come from our model of Cobot's rounding
(``cobot_sevdesk.sandbox.rounding``, the same the Cobot sandbox uses); what sevDesk makes
of the positions we send comes from the sevDesk sandbox's one function for it
(``sandbox.sevdesk.positions.position_sums``)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cobot_sevdesk.cobot.models import Invoice, parse_invoice
from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.payload import Reader
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sandbox.rounding import invoice_amounts
from cobot_sevdesk.sandbox.sevdesk.positions import position_sums
from cobot_sevdesk.sync.rules.money import (
    CENT,
    Position,
    consistent,
    receipt_positions,
    split_rate,
)
from tests.world import BOOKING_ACCOUNTS, make_world

RATES = ["0", "7", "19"]
ACCOUNTS = [name for name, _base in BOOKING_ACCOUNTS if name != "Food"]

Sums = dict[Decimal, tuple[Decimal, Decimal, Decimal]]


def price(min_cents: int = -50_000, max_cents: int = 500_000) -> st.SearchStrategy[str]:
    """Unit prices with up to four decimals (Cobot allows more than cents on units);
    negative ones are discounts and credits."""
    return st.one_of(
        st.integers(min_cents, max_cents).map(lambda c: str(Decimal(c) / 100)),
        st.integers(min_cents * 100, max_cents * 100).map(lambda c: str(Decimal(c) / 10_000)),
    )


quantity = st.one_of(
    st.integers(1, 12).map(str),
    st.sampled_from(["0.5", "1.5", "0.25", "2.333", "0.1", "7.75", "-1"]),
)


def line_of(codes: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "description": st.text(min_size=1, max_size=20),
            "quantity": quantity,
            "unit_net": price(),
            "tax_rate": st.sampled_from(RATES),
            "accounting_code": st.sampled_from(codes),
        }
    )


#: Several lines per rate on several accounts: the cases where rounding differs.
line = line_of(ACCOUNTS)
invoice_lines = st.lists(line, min_size=1, max_size=40)


def as_invoice(lines: list[dict[str, Any]]) -> Invoice:
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


def cobot_sums(lines: list[dict[str, Any]]) -> Sums:
    """Net, tax and gross per rate as Cobot bills them (from its amounts)."""
    amounts = invoice_amounts(lines)
    net: dict[Decimal, Decimal] = defaultdict(Decimal)
    for cobot_line, amount in zip(lines, amounts.lines, strict=True):
        net[Decimal(cobot_line["tax_rate"]).normalize()] += amount.total_net.quantize(CENT)
    tax = {rate.normalize(): amount for rate, amount in amounts.taxes}
    return {r: (n, tax.get(r, Decimal(0)), n + tax.get(r, Decimal(0))) for r, n in net.items()}


def sevdesk_sums(positions: list[Position]) -> Sums:
    """Net, tax and gross per rate as sevDesk computes them from the gross we send."""
    sums: dict[Decimal, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for position in positions:
        computed = position_sums(
            net_mode=False, sum_net=position.net, sum_gross=position.gross, rate=position.rate
        )
        sums[position.rate] = [a + b for a, b in zip(sums[position.rate], computed, strict=True)]
    return {rate: (s[0], s[1], s[2]) for rate, s in sums.items()}


@given(invoice_lines)
@settings(max_examples=4000, deadline=None)
def test_net_tax_and_gross_per_rate_equal_cobots_as_sevdesk_computes_them(
    lines: list[dict[str, Any]],
) -> None:
    invoice = as_invoice(lines)
    accounts = [line["accounting_code"] for line in lines]
    positions = receipt_positions(invoice, accounts)
    assert sevdesk_sums(positions) == cobot_sums(lines)
    assert sum(p.gross for p in positions) == invoice.total.gross
    booked = sorted(i for p in positions for i in p.lines)
    assert booked == list(range(len(lines)))  # every line, once
    for position in positions:
        assert len({accounts[i] for i in position.lines}) == 1  # one account each
        assert {lines[i]["tax_rate"] for i in position.lines} == {format(position.rate, "f")}
        # sevDesk's net of each position is the one we planned
        assert position_sums(
            net_mode=False, sum_net=None, sum_gross=position.gross, rate=position.rate
        )[:2] == (position.net, position.tax)


@given(st.lists(line_of(["Desks"]), min_size=1, max_size=40))
@settings(max_examples=1000, deadline=None)
def test_one_account_moves_no_cent(lines: list[dict[str, Any]]) -> None:
    """With one account per rate, each position keeps Cobot's exact net: either one
    per line, or the rate's lines merged."""
    invoice = as_invoice(lines)
    positions = receipt_positions(invoice, ["Desks"] * len(lines))
    for position in positions:
        assert position.net == sum(invoice.lines[i].total.net for i in position.lines)


def test_a_rate_with_agreeing_rounding_keeps_one_position_per_line() -> None:
    lines = [
        {"description": "Desk", "quantity": "1", "unit_net": "250", "tax_rate": "19"},
        {"description": "Room", "quantity": "3", "unit_net": "12.61", "tax_rate": "19"},
        {"description": "Coffee", "quantity": "1", "unit_net": "1.87", "tax_rate": "7"},
    ]
    invoice = as_invoice([{**line, "accounting_code": "Desks"} for line in lines])
    positions = receipt_positions(invoice, ["Desks", "Rooms", "Food"])
    assert [p.lines for p in positions] == [(0,), (1,), (2,)]
    assert [p.gross for p in positions] == [line.total.gross for line in invoice.lines]


def test_lines_whose_rounding_disagrees_are_merged_per_account() -> None:
    # 3 x 0.33 net at 19 %: each line's tax rounds to 0.06, the rate's to 0.19.
    lines = [
        {"description": f"Print {n}", "quantity": "1", "unit_net": "0.33", "tax_rate": "19"}
        for n in range(3)
    ]
    invoice = as_invoice([{**line, "accounting_code": "Desks"} for line in lines])
    [position] = receipt_positions(invoice, ["Desks"] * 3)
    assert position.lines == (0, 1, 2)
    assert (position.net, position.tax) == (Decimal("0.99"), Decimal("0.19"))


def test_two_accounts_split_the_rates_tax_and_move_a_cent_only_when_they_must() -> None:
    # 0.57 at 19 % is 0.1083 on each account and 0.2166 on both: 0.11 + 0.11 = 0.22.
    assert split_rate([57, 57], 22, Decimal(19)) == [(57, 11), (57, 11)]
    # 0.30 at 19 % is 0.057, so each account's position must carry 0.06 (sevDesk would
    # derive a net of 0.29 from a gross of 0.35); the rate's tax on 0.60 is 0.11. Only a
    # cent of net moved between the two makes both positions fit.
    assert not consistent(30, 5, Decimal(19))
    assert split_rate([30, 30], 11, Decimal(19)) == [(29, 5), (31, 6)]
    # The search keeps the moves minimal on larger sums too.
    split = split_rate([1581, 1581], 601, Decimal(19))
    assert split == [(1580, 300), (1582, 301)]


def test_an_invoice_whose_numbers_do_not_fit_is_refused_not_booked() -> None:
    desk = {"description": "Desk", "quantity": "1", "unit_net": "100", "tax_rate": "19"}
    invoice = as_invoice([{**desk, "accounting_code": "Desks"}])
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
        receipt_positions(broken, ["Desks"])
    assert err.value.code == "inconsistent_invoice"


@given(invoice_lines, st.integers(1, 500))
@settings(max_examples=200, deadline=None)
def test_a_rate_tax_that_does_not_fit_its_net_is_refused(
    lines: list[dict[str, Any]], off: int
) -> None:
    invoice = as_invoice(lines)
    taxed = [t for t in invoice.total.taxes if t.amount]
    if not taxed:
        return
    wrong = taxed[0].__class__(rate=taxed[0].rate, amount=taxed[0].amount + Decimal(off))
    taxes = tuple(wrong if t is taxed[0] else t for t in invoice.total.taxes)
    broken = invoice.__class__(
        **{
            **invoice.__dict__,
            "total": invoice.total.__class__(
                net=invoice.total.net,
                gross=invoice.total.gross + Decimal(off),
                currency="EUR",
                taxes=taxes,
            ),
        }
    )
    with pytest.raises(BusinessRuleError) as err:
        receipt_positions(broken, [line["accounting_code"] for line in lines])
    assert err.value.code == "inconsistent_invoice"


@pytest.mark.django_db
@given(st.lists(line_of([*ACCOUNTS, "Food"]), min_size=1, max_size=12))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_receipts_in_sevdesk_match_invoices_in_cobot_per_rate(
    sandboxes: Sandboxes, lines: list[dict[str, Any]]
) -> None:
    """End to end over HTTP (webhook in, receipt in the sevDesk sandbox): what sevDesk
    stores per rate equals what Cobot billed per rate. (An invoice with a negative
    total is a correction, booked differently: ``tests/sync/test_corrections.py``.)"""
    assume(sum(s[2] for s in cobot_sums(lines).values()) >= 0)
    sandboxes.reset()
    LedgerItem.objects.all().delete()
    from cobot_sevdesk.ledger.models import Space

    Space.objects.all().delete()
    world = make_world(sandboxes)
    invoice = world.invoice(lines)
    item = world.run(world.receive_invoice(invoice))
    assert item.state == LedgerItem.State.MISMATCH, item.error_text()
    [voucher] = world.vouchers()
    stored: dict[Decimal, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for position in voucher["positions"]:
        sums = [Decimal(position[key]) for key in ("sumNet", "sumTax", "sumGross")]
        rate = Decimal(position["taxRate"]).normalize()
        stored[rate] = [a + b for a, b in zip(stored[rate], sums, strict=True)]
    assert {r: tuple(s) for r, s in stored.items()} == cobot_sums(lines)
    assert Decimal(voucher["sumGross"]) == Decimal(invoice["attributes"]["totalAmount"]["gross"])
    assert Decimal(voucher["sumNet"]) + Decimal(voucher["sumTax"]) == Decimal(voucher["sumGross"])
