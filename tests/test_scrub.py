"""What items keep for the audit trail loses what grants access, and what no database
can store."""

from __future__ import annotations

from decimal import Decimal

from cobot_sevdesk.scrub import REDACTED, scrub


def test_kept_payloads_lose_secrets_and_what_no_database_stores() -> None:
    kept = scrub(
        {
            "pdf": {"url": "https://api.cobot.me/invoices/1.pdf?token=abc&e_invoice=true"},
            "headers": {"Authorization": "Bearer abc", "X-Api-Key": "k"},
            "text": "a\x00b \ud800 Zürich",
            "sum": Decimal("119.00"),
        }
    )
    assert (
        kept["pdf"]["url"]
        == f"https://api.cobot.me/invoices/1.pdf?token={REDACTED}&e_invoice={REDACTED}"
    )
    assert kept["headers"] == {"Authorization": REDACTED, "X-Api-Key": REDACTED}
    assert "\x00" not in kept["text"] and "\ud800" not in kept["text"]
    assert kept["text"].endswith(" Zürich") and kept["sum"] == "119.00"
