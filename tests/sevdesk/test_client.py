"""SevdeskClient against the sevDesk sandbox over real HTTP: every error class,
Retry-After, timeouts, unknown outcomes, malformed payloads and paging."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cobot_sevdesk.errors import (
    AuthorizationError,
    Forbidden,
    NotFound,
    OutcomeUnknown,
    PayloadError,
    PermanentError,
    RateLimited,
    TransientError,
)
from cobot_sevdesk.http import USER_AGENT, Timeouts
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sevdesk.client import SevdeskClient
from tests.world import receipt_body

TOKEN = "a" * 32


@pytest.fixture
def client(sandboxes: Sandboxes) -> SevdeskClient:
    sandboxes.sevdesk.add_account(TOKEN, cost_centres=[{"number": "100", "name": "Coworking"}])
    return SevdeskClient(TOKEN, base_url=sandboxes.sevdesk.base_url)


def test_token_goes_raw_in_authorization_header_with_a_real_user_agent(
    client: SevdeskClient, sandboxes: Sandboxes
) -> None:
    assert client.bookkeeping_version() == "2.0"
    [logged] = sandboxes.sevdesk.requests(path="bookkeepingSystemVersion")
    assert logged["status"] == 200
    assert logged["headers"]["authorization"] == TOKEN
    assert logged["headers"]["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("cobot-sevdesk/")


def test_wrong_token_is_an_authorization_error(sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.add_account(TOKEN)
    with pytest.raises(AuthorizationError) as err:
        SevdeskClient("b" * 32, base_url=sandboxes.sevdesk.base_url).bookkeeping_version()
    assert err.value.status == 401
    assert "Authentication required" in err.value.service_message


def test_revoked_token_is_an_authorization_error(
    client: SevdeskClient, sandboxes: Sandboxes
) -> None:
    sandboxes.sevdesk.revoke(TOKEN)
    with pytest.raises(AuthorizationError):
        client.revenue_accounts()


def test_403_refuses_one_call_not_the_token(client: SevdeskClient, sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.fault("/Contact$", status=403)
    with pytest.raises(Forbidden) as err:
        client.find_contacts_by_customer_number("1000")
    assert err.value.status == 403 and not isinstance(err.value, AuthorizationError)
    assert client.bookkeeping_version() == "2.0"


def test_429_is_rate_limited_with_retry_after(client: SevdeskClient, sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.fault("/Voucher$", status=429, retry_after="7")
    with pytest.raises(RateLimited) as err:
        client.find_vouchers_by_description("RE-1")
    assert err.value.retry_after == 7.0


def test_503_is_transient_and_reads_retry_after_as_http_date(
    client: SevdeskClient, sandboxes: Sandboxes
) -> None:
    when = (dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=120)).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    sandboxes.sevdesk.fault("/Voucher$", status=503, retry_after=when)
    with pytest.raises(TransientError) as err:
        client.find_vouchers_by_description("RE-1")
    assert err.value.status == 503
    assert err.value.retry_after is not None
    assert 100 < err.value.retry_after <= 120


def test_500_is_transient_and_the_next_call_works(
    client: SevdeskClient, sandboxes: Sandboxes
) -> None:
    sandboxes.sevdesk.fault("/ReceiptGuidance", status=500, times=1)
    with pytest.raises(TransientError):
        client.revenue_accounts()
    assert client.revenue_accounts()


def test_a_missing_voucher_is_not_found(client: SevdeskClient) -> None:
    # sevDesk documents it as a 400 "Voucher was not found", as the sandbox answers.
    with pytest.raises(NotFound):
        client.get_voucher(999999)


def test_422_is_permanent_and_carries_sevdesks_message(client: SevdeskClient) -> None:
    body = {
        "voucher": {
            "objectName": "Voucher",
            "mapAll": True,
            "status": 1000,
            "creditDebit": "D",
            "voucherType": "VOU",
            "supplierName": "X",
            "taxRule": {"id": 1, "objectName": "TaxRule"},
        },
        "voucherPosSave": [],
    }
    with pytest.raises(PermanentError) as err:
        client.save_voucher(body)
    assert err.value.status == 422
    assert "status 50" in err.value.service_message
    assert "ref " in err.value.service_message  # sevDesk's exceptionUUID for support


def test_read_timeout_on_a_read_is_transient(client: SevdeskClient, sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.fault("/ReceiptGuidance", delay=1.0)
    slow = SevdeskClient(
        TOKEN, base_url=sandboxes.sevdesk.base_url, timeouts=Timeouts(connect=1, read=0.2)
    )
    with pytest.raises(TransientError) as err:
        slow.revenue_accounts()
    assert not isinstance(err.value, OutcomeUnknown)
    assert "no answer" in str(err.value)


def test_read_timeout_on_a_write_is_an_unknown_outcome(
    client: SevdeskClient, sandboxes: Sandboxes
) -> None:
    sandboxes.sevdesk.fault("/Contact$", method="POST", delay=1.0)
    slow = SevdeskClient(
        TOKEN, base_url=sandboxes.sevdesk.base_url, timeouts=Timeouts(connect=1, read=0.2)
    )
    with pytest.raises(OutcomeUnknown):
        slow.create_contact({"name": "ACME", "category": {"id": 3, "objectName": "Category"}})


def test_connection_dropped_after_commit_is_an_unknown_outcome_and_the_write_happened(
    client: SevdeskClient, sandboxes: Sandboxes
) -> None:
    sandboxes.sevdesk.fault("/Contact$", method="POST", drop="after")
    with pytest.raises(OutcomeUnknown):
        client.create_contact(
            {
                "name": "ACME",
                "customerNumber": "5000",
                "category": {"id": 3, "objectName": "Category"},
            }
        )
    # The sandbox committed the contact before dropping the connection.
    assert [c.name for c in client.find_contacts_by_customer_number("5000")] == ["ACME"]


def test_connection_dropped_before_handling_a_read_is_transient(
    client: SevdeskClient, sandboxes: Sandboxes
) -> None:
    sandboxes.sevdesk.fault("/Tools", drop="before")
    with pytest.raises(TransientError):
        client.bookkeeping_version()


def test_unreachable_server_is_transient_and_never_sent(sandboxes: Sandboxes) -> None:
    dead = SevdeskClient(
        TOKEN, base_url="http://127.0.0.1:9", timeouts=Timeouts(connect=0.5, read=0.5)
    )
    with pytest.raises(TransientError) as err:
        dead.create_contact({"name": "x", "category": {"id": 3, "objectName": "Category"}})
    assert not isinstance(err.value, OutcomeUnknown)
    assert "could not connect" in str(err.value)


def test_malformed_payload_names_the_field(client: SevdeskClient, sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.fault("/Tools", status=200, body={"objects": {"wrong": "2.0"}})
    with pytest.raises(PayloadError) as err:
        client.bookkeeping_version()
    assert err.value.field == "objects.version"
    sandboxes.sevdesk.fault(
        "/ReceiptGuidance",
        status=200,
        body={"objects": [{"accountDatevId": "x", "accountNumber": "4400"}]},
    )
    with pytest.raises(PayloadError) as err:
        client.revenue_accounts()
    assert err.value.field == "objects[0].accountDatevId"


def test_missing_envelope_is_a_payload_error(client: SevdeskClient, sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.fault("/Tools", status=200, body={"version": "2.0"})
    with pytest.raises(PayloadError) as err:
        client.bookkeeping_version()
    assert err.value.field == "objects"


def test_single_objects_come_as_array_or_bare(client: SevdeskClient) -> None:
    created = client.create_contact(
        {"name": "ACME", "category": {"id": 3, "objectName": "Category"}}
    )
    # GET /Contact/{id} answers with a one-element array, POST with a bare object.
    assert client.get_contact(created.id) == created


def test_customer_number_lookup_is_exact_and_sees_persons(
    client: SevdeskClient, sandboxes: Sandboxes
) -> None:
    sandboxes.sevdesk.add_contact(TOKEN, surename="Jane", familyname="Doe", customerNumber="1001")
    sandboxes.sevdesk.add_contact(TOKEN, name="ACME", customerNumber="10010")
    [jane] = client.find_contacts_by_customer_number("1001")
    assert (jane.surename, jane.familyname) == ("Jane", "Doe")


def test_listing_pages_through_results(client: SevdeskClient, sandboxes: Sandboxes) -> None:
    for n in range(230):
        sandboxes.sevdesk.add_contact(TOKEN, name=f"Org {n}", customerNumber="77")
    found = client.find_contacts_by_customer_number("77")
    assert len(found) == 230
    pages = sandboxes.sevdesk.requests(method="GET", path="^/Contact$")
    assert [p["query"]["offset"] for p in pages] == [["0"], ["100"], ["200"]]


def test_voucher_lookup_compares_descriptions_exactly(client: SevdeskClient) -> None:
    account = next(a for a in client.revenue_accounts() if a.number == "4400")
    for number in ("RE-1", "RE-10", "RE-100"):
        client.save_voucher(
            receipt_body(number, dt.date(2026, 3, 1), Decimal("119.00"), account.datev_id, "X")
        )
    [found] = client.find_vouchers_by_description("RE-1")
    assert found.description == "RE-1"
    assert found.sum_gross == Decimal("119.00")
    assert found.voucher_date == dt.date(2026, 3, 1)


def test_checking_a_customer_number_needs_one(client: SevdeskClient) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        client.customer_number_available("")
    assert client.customer_number_available("424242") is True


def test_repr_never_shows_the_token(client: SevdeskClient) -> None:
    assert TOKEN not in repr(client)
