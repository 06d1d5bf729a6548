"""Our model of Cobot's rounding does what its docstring says it assumes."""

from __future__ import annotations

from decimal import Decimal

from cobot_sevdesk.sandbox.rounding import invoice_amounts


def line(unit_net: str, quantity: str, rate: str) -> dict[str, str]:
    return {"unit_net": unit_net, "quantity": quantity, "tax_rate": rate}


def test_tax_is_computed_per_rate_on_the_summed_net_not_summed_from_the_lines() -> None:
    amounts = invoice_amounts([line("0.02", "1", "19")] * 3)
    assert [a.total_tax for a in amounts.lines] == [Decimal("0.00")] * 3
    assert amounts.total_json("EUR") == {
        "net": "0.06",
        "gross": "0.07",  # while the three line grosses add up to 0.06
        "currency": "EUR",
        "taxes": [{"name": "VAT", "rate": "19", "amount": "0.01"}],
    }


def test_a_line_total_comes_from_the_unrounded_unit_price() -> None:
    [amounts] = invoice_amounts([line("1.3333", "3", "7")]).lines
    assert amounts.unit_json("EUR")["net"] == "1.33"
    assert amounts.total_json("EUR")["net"] == "4.00"  # not 3 x 1.33


def test_rounding_is_half_up_and_a_zero_rate_has_no_tax_entry() -> None:
    amounts = invoice_amounts([line("0.125", "1", "0"), line("-0.125", "1", "0")])
    assert [a.total_json("EUR")["gross"] for a in amounts.lines] == ["0.13", "-0.13"]
    assert amounts.lines[0].total_json("EUR")["taxes"] == []
    assert amounts.total_json("EUR")["taxes"] == []
