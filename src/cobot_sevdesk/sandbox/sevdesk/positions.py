"""What ``saveVoucher`` checks and computes: dates, the tax rule, and each position with
its sums. ``position_sums`` is the one place the sandbox decides how sevDesk turns what
we send into a position's net, tax and gross."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from cobot_sevdesk.sandbox.sevdesk.bookkeeping import (
    ALL_RULES,
    EXPENSE_RULES,
    LEGACY_TAX_TYPES,
    RATE_TOKENS,
    RULES_NOT_FOR_VOUCHERS,
    TAX_RULES,
)
from cobot_sevdesk.sandbox.sevdesk.dates import parse_date
from cobot_sevdesk.sandbox.sevdesk.state import Account, error, ref_id

CENT = Decimal("0.01")


def optional_date(body: dict[str, Any], field_name: str) -> dt.date | None:
    return parse_date(body[field_name], field_name) if body.get(field_name) else None


def number(value: Any, field_name: str) -> Decimal:
    if isinstance(value, bool):
        raise error(422, f"{field_name} must be a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise error(422, f"{field_name} must be a number") from None


def to_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def position_sums(
    *, net_mode: bool, sum_net: Decimal | None, sum_gross: Decimal | None, rate: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """(net, tax, gross) of one voucher position, as sevDesk computes them from what
    it was sent.

    Documented (the VoucherPos tag of the official description): "The 'net' attribute
    determines how we calculate the total, if net is true we use the sumNet and
    calculate from there. If net is false we use the sumGross and calculate the other
    values from there." The other sum is read-only ("Only regarded if 'net' is ...").

    GUESS (not documented, the way every bookkeeping program computes it, and what
    the real clients we read assume): every amount is to the cent, rounded half away
    from zero; the authoritative sum is taken as sent (rounded to the cent), and the
    other one is derived with one rounding:

    - net mode:   tax = round(sumNet * rate / 100),       gross = sumNet + tax;
    - gross mode: net = round(sumGross / (1 + rate / 100)), tax = sumGross - net.

    A voucher's sums are the sums of its positions (``vouchers.save_voucher``).
    """
    if net_mode:
        if sum_net is None:
            raise error(422, "sumNet is required when net is true")
        net = to_cent(sum_net)
        tax = to_cent(net * rate / 100)
        return net, tax, net + tax
    if sum_gross is None:
        raise error(422, "sumGross is required when net is false")
    gross = to_cent(sum_gross)
    net = to_cent(gross / (1 + rate / 100))
    return net, gross - net, gross


def tax_rule(voucher_in: dict[str, Any]) -> int:
    """The voucher's tax rule, refused as the official description refuses it:
    One-Stop-Shop (18, 19, 20) and §18b reverse charge (21) are documented as not
    usable in vouchers."""
    rule = voucher_in.get("taxRule")
    if rule is not None:
        rule_id = ref_id(rule, "TaxRule", "taxRule")
    elif voucher_in.get("taxType") in LEGACY_TAX_TYPES:
        # Documented transition: 1.0 taxTypes are mapped on 2.0 accounts.
        rule_id = LEGACY_TAX_TYPES[voucher_in["taxType"]]
    else:
        raise error(422, "taxRule is required (bookkeeping system 2.0)")
    if rule_id in RULES_NOT_FOR_VOUCHERS:
        raise error(422, f"Tax rule {rule_id} cannot be used on vouchers")
    if rule_id not in ALL_RULES:
        raise error(422, f"Unknown tax rule {rule_id}")
    return rule_id


def _fits(guide: dict[str, Any], credit_debit: str, rule_id: int) -> bool:
    """Whether an account may be booked on a voucher of this direction.

    D (revenue, "you sold something"): accounts of the revenue guidance.
    C ("you bought something"): expense accounts; and revenue accounts with a
    revenue tax rule, which is how a reduction of revenue is booked: sevDesk's help
    centre says a credit note "stellt einen Ausgabebeleg dar" that reduces the
    revenue, and the Stripe→sevDesk sync books refunds as C vouchers on the revenue
    account 3631 with the original's tax rule. GUESS: the official description says
    nothing on 2.0 accounts by direction (its rule "income types only on debit
    vouchers" is about 1.0 accounting types).
    """
    if credit_debit == "D":
        return "REVENUE" in guide["receiptTypes"]
    if "EXPENSE" in guide["receiptTypes"]:
        return rule_id in EXPENSE_RULES
    return rule_id in TAX_RULES


def position(
    account: Account, raw: Any, index: int, rule_id: int, credit_debit: str
) -> dict[str, Any]:
    """One position of ``voucherPosSave``, checked and with its sums computed.

    Negative sums are accepted: the official description mentions vouchers "with
    negative voucher positions" (sevdesk-Update 2.0, booking a voucher), so they
    exist; what a negative position means for the books is the sender's business.
    """
    where = f"voucherPosSave[{index}]"
    if (
        not isinstance(raw, dict)
        or raw.get("objectName") != "VoucherPos"
        or raw.get("mapAll") is not True
    ):
        raise error(400, f"{where} needs objectName 'VoucherPos' and mapAll true")
    if raw.get("accountDatev") is not None:
        datev_id = ref_id(raw["accountDatev"], "AccountDatev", f"{where}.accountDatev")
    elif raw.get("accountingType") is not None:
        # Documented: 1.0 accounting types still work if the guidance knows the account.
        datev_id = ref_id(raw["accountingType"], "AccountingType", f"{where}.accountingType")
    else:
        raise error(422, f"{where}: accountDatev is required")
    guide = account.account_by_datev(datev_id)
    if guide is None:
        raise error(422, f"{where}: booking account {datev_id} is not available for this client")
    if not _fits(guide, credit_debit, rule_id):
        kind = "revenue" if credit_debit == "D" else "credit (C)"
        raise error(
            422,
            f"{where}: account {guide['accountNumber']} cannot be used with tax rule "
            f"{rule_id} on {kind} vouchers",
        )
    rate = number(raw.get("taxRate"), f"{where}.taxRate")
    token = RATE_TOKENS.get(rate)
    if rule_id not in guide["rules"]:
        raise error(
            422,
            f"{where}: tax rule {rule_id} is not allowed for account {guide['accountNumber']}",
        )
    if token is None or token not in ALL_RULES[rule_id][2]:
        raise error(
            422,
            f"{where}: tax rate {rate} is not allowed with tax rule {rule_id} "
            f"on account {guide['accountNumber']}",
        )
    net_mode = raw.get("net")
    if not isinstance(net_mode, bool):
        raise error(422, f"{where}: net must be true or false")
    sums = {
        key: number(raw[key], f"{where}.{key}") if raw.get(key) is not None else None
        for key in ("sumNet", "sumGross")
    }
    net, tax, gross = position_sums(
        net_mode=net_mode, sum_net=sums["sumNet"], sum_gross=sums["sumGross"], rate=rate
    )
    return {
        "accountDatev": datev_id,
        "taxRate": rate,
        "net": net_mode,
        "sumNet": net,
        "sumTax": tax,
        "sumGross": gross,
        "comment": raw.get("comment"),
    }
