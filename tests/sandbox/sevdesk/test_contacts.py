"""Contacts: persons show only at depth 1; customer numbers are handed out unused."""

from __future__ import annotations

from typing import Any


def test_contacts_need_depth_1_to_show_persons(api: Any) -> None:
    api(
        "POST",
        "/Contact",
        json={
            "surename": "Jane",
            "familyname": "Doe",
            "customerNumber": "1000",
            "category": {"id": 3, "objectName": "Category"},
        },
    )
    assert api("GET", "/Contact", params={"customerNumber": "1000"}).json()["objects"] == []
    [jane] = api("GET", "/Contact", params={"customerNumber": "1000", "depth": "1"}).json()[
        "objects"
    ]
    assert jane["surename"] == "Jane"


def test_next_customer_number_skips_used_numbers(api: Any) -> None:
    first = api("GET", "/Contact/Factory/getNextCustomerNumber").json()["objects"]
    api(
        "POST",
        "/Contact",
        json={
            "name": "A",
            "customerNumber": first,
            "category": {"id": 3, "objectName": "Category"},
        },
    )
    second = api("GET", "/Contact/Factory/getNextCustomerNumber").json()["objects"]
    assert int(second) == int(first) + 1
    assert (
        api(
            "GET",
            "/Contact/Mapper/checkCustomerNumberAvailability",
            params={"customerNumber": first},
        ).json()["objects"]
        is False
    )
    # Documented quirk: without the parameter, a 500.
    assert api("GET", "/Contact/Mapper/checkCustomerNumberAvailability").status_code == 500
