"""Members become sevDesk contacts, against the sandboxes over HTTP."""

from __future__ import annotations

import pytest

from cobot_sevdesk.ledger.models import ContactLink, LedgerItem
from tests.world import World

pytestmark = pytest.mark.django_db
State = LedgerItem.State


def test_person_contact_with_address_and_emails(world: World) -> None:
    member = world.member(
        "Jane Mary Doe",
        street="Hauptstr. 1",
        post_code="10115",
        city="Berlin",
        country="Germany",
        email="jane@example.org",
        billing_emails=["billing@doe.example"],
    )
    item = world.run(world.receive_member(member))
    assert item.state == State.SYNCED
    [contact] = world.contacts()
    assert (contact["surename"], contact["familyname"]) == ("Jane Mary", "Doe")
    assert "name" not in contact
    assert "Jane Mary Doe" in contact["description"]  # the full name survives
    assert contact["category"]["id"] == "3"
    [address] = contact["addresses"]
    assert (address["street"], address["zip"], address["city"]) == (
        "Hauptstr. 1",
        "10115",
        "Berlin",
    )
    assert address["country"]["id"] == 1 and address["category"]["id"] == 47
    ways = {(w["value"], w["key"]["id"], w["main"]) for w in contact["communicationWays"]}
    assert ways == {("billing@doe.example", "8", "1"), ("jane@example.org", "2", "0")}


def test_organisation_contact_when_the_billing_address_has_a_company(world: World) -> None:
    member = world.member("Jane Doe", company="ACME GmbH", city="Wien", country="Österreich")
    world.run(world.receive_member(member))
    [contact] = world.contacts()
    assert contact["name"] == "ACME GmbH"
    assert "surename" not in contact and "Jane Doe" in contact["description"]
    assert contact["addresses"][0]["country"]["id"] == 3  # Austria, resolved by its German name


def test_customer_number_is_written_back_and_announced(world: World) -> None:
    member = world.member("Jane Doe", customer_number="C-7")
    item = world.run(world.receive_member(member))
    [contact] = world.contacts()
    number = contact["customerNumber"]
    assert item.customer_number == number
    assert world.cobot_member(member["id"])["customer_number"] == number
    [activity] = world.activities()
    assert activity["channels"] == ["admin"]
    assert number in activity["attributes"]["text"] and "Jane Doe" in activity["attributes"]["text"]
    assert (
        ContactLink.objects.get(space=world.space, customer_number=number).membership_id
        == member["id"]
    )


def test_existing_contact_with_the_members_number_is_linked_not_duplicated(world: World) -> None:
    existing = world.boxes.sevdesk.add_contact(
        world.sevdesk_token, name="Doe Consulting", customerNumber="4711"
    )
    member = world.member("Jane Doe", customer_number="4711")
    item = world.run(world.receive_member(member))
    assert item.state == State.SYNCED
    assert item.sevdesk_contact_id == existing["id"]
    assert len(world.contacts()) == 1
    assert "linked" in world.activities()[0]["attributes"]["text"]
    # Nothing was written back: the number already matched.
    assert not world.boxes.cobot.requests(method="PUT")


def test_several_contacts_with_the_number_stop_and_report(world: World) -> None:
    for name in ("A", "B"):
        world.boxes.sevdesk.add_contact(world.sevdesk_token, name=name, customerNumber="4711")
    member = world.member("Jane Doe", customer_number="4711")
    item = world.run(world.receive_member(member))
    assert item.state == State.FAILED
    assert item.error_code == "ambiguous_contact"
    assert "Several sevDesk contacts have the customer number 4711" in item.error_text()
    assert len(world.contacts()) == 2
    assert world.activities()[0]["level"] == "ERROR"


def test_redelivered_webhook_and_rerun_make_no_second_contact(world: World) -> None:
    member = world.member("Jane Doe")
    item = world.run(world.receive_member(member, "created_membership"))
    again = world.receive_member(member, "confirmed_membership")
    assert again.pk == item.pk
    world.drain()
    requests_before = len(world.boxes.sevdesk.requests())
    assert world.run(item).state == State.SYNCED  # a re-run of a finished item is a no-op
    assert len(world.boxes.sevdesk.requests()) == requests_before
    assert len(world.contacts()) == 1
    assert LedgerItem.objects.filter(space=world.space, kind="member").count() == 1


def test_unconfirmed_member_is_skipped_until_confirmed(world: World) -> None:
    member = world.member("Jane Doe", confirmed=False)
    item = world.run(world.receive_member(member, "created_membership"))
    assert item.state == State.SKIPPED and world.contacts() == []
    world.boxes.cobot.confirm_member(world.subdomain, member["id"])
    world.receive_member(member, "confirmed_membership")
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED and len(world.contacts()) == 1


def test_contact_create_with_lost_answer_is_read_back_not_repeated(world: World) -> None:
    member = world.member("Jane Doe")
    world.boxes.sevdesk.fault("^/Contact$", method="POST", drop="after")
    item = world.run(world.receive_member(member))
    assert item.state == State.AMBIGUOUS
    world.make_due()
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED
    assert len(world.contacts()) == 1
    assert len(world.boxes.sevdesk.requests(method="POST", path="^/Contact$")) == 1


def test_failure_after_the_contact_resumes_without_repeating_it(world: World) -> None:
    member = world.member("Jane Doe", city="Berlin", email="jane@example.org")
    world.boxes.sevdesk.fault("^/CommunicationWay$", method="POST", status=503)
    item = world.run(world.receive_member(member))
    assert item.state == State.RETRY_WAIT
    assert "sevDesk" in item.error_text()
    world.make_due()
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED
    [contact] = world.contacts()
    assert len(contact["addresses"]) == 1 and len(contact["communicationWays"]) == 1


def test_unknown_country_keeps_the_contact_and_notes_it(world: World) -> None:
    member = world.member("Jane Doe", city="Atlantis City", country="Atlantis")
    item = world.run(world.receive_member(member))
    assert item.state == State.SYNCED
    assert world.contacts()[0].get("addresses") == []
    assert any("Atlantis" in e.text() for e in item.events.all())


def test_deleted_membership_is_skipped(world: World) -> None:
    item = world.run(world.receive("confirmed_membership", "member", "does-not-exist"))
    assert item.state == State.SKIPPED
    assert world.contacts() == []


# ---------------------------------------------------------------- the write-back
def test_the_write_back_is_read_back_before_it_is_announced(world: World) -> None:
    member = world.member("Jane Doe")
    item = world.run(world.receive_member(member))
    assert item.progress["written_back"] == "verified"
    assert len(world.boxes.cobot.requests(method="GET", path="/api/memberships/")) == 2
    [activity] = world.activities()
    assert "The number was written to the member's profile" in activity["attributes"]["text"]


@pytest.mark.parametrize(
    ("mode", "status", "words"),
    [("ignore", 422, "did not keep"), ("refuse", 422, "refused"), ("refuse", 403, "refused")],
    ids=["ignored", "refused 422", "refused 403"],
)
def test_a_write_back_cobot_ignores_or_refuses_keeps_the_contact_and_warns_once(
    world: World, mode: str, status: int, words: str
) -> None:
    world.boxes.cobot.write_back(world.subdomain, mode, status)
    member = world.member("Jane Doe", customer_number="C-7")
    item = world.run(world.receive_member(member))
    assert item.state == State.SYNCED  # the contact is made; it stays synced
    [contact] = world.contacts()
    assert world.cobot_member(member["id"])["customer_number"] == "C-7"  # not written
    # One warning, in Cobot and on the dashboard; no claim that the number was written.
    [activity] = world.activities()
    text = activity["attributes"]["text"]
    assert activity["level"] == "WARN" and words in text
    assert contact["customerNumber"] in text and "written to the member's profile" not in text
    assert item in world.space.items.needing_attention()
    assert words in item.attention_text() and "settings" in item.attention_text()
    # Redelivered and re-run: no second warning, no second write.
    world.receive_member(member, "created_membership")
    world.drain()
    assert len(world.activities()) == 1
    assert len(world.boxes.cobot.requests(method="PUT")) == 1


def test_a_write_back_switched_off_writes_nothing_and_claims_nothing(world: World) -> None:
    world.space.write_back_numbers = False
    world.space.save()
    member = world.member("Jane Doe", customer_number="C-7")
    item = world.run(world.receive_member(member))
    assert item.state == State.SYNCED and item.attention is None
    assert not world.boxes.cobot.requests(method="PUT")
    [activity] = world.activities()
    assert activity["level"] is None
    assert "written to the member's profile" not in activity["attributes"]["text"]
