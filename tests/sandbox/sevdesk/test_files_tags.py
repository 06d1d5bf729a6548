"""A voucher's document is uploaded first and attached once; tags attach to vouchers."""

from __future__ import annotations

from typing import Any

from cobot_sevdesk.sandbox.control import Sandboxes
from tests.sandbox.sevdesk.payloads import TOKEN, position, save, voucher


def test_upload_then_attach_a_pdf(api: Any, sandboxes: Sandboxes) -> None:
    upload = api(
        "POST",
        "/Voucher/Factory/uploadTempFile",
        files={"file": ("RE-1.pdf", b"%PDF-1.4 test", "application/pdf")},
    )
    assert upload.status_code == 201
    filename = upload.json()["objects"]["filename"]
    response = api(
        "POST",
        "/Voucher/Factory/saveVoucher",
        json={
            "voucher": voucher(),
            "voucherPosSave": [position()],
            "voucherPosDelete": None,
            "filename": filename,
        },
    )
    assert response.status_code == 201
    [stored] = sandboxes.sevdesk.state(TOKEN)["vouchers"]
    assert stored["document"] is not None and stored["documentHash"]
    # A temp file can be used once.
    again = api(
        "POST",
        "/Voucher/Factory/saveVoucher",
        json={"voucher": voucher(), "voucherPosSave": [position()], "filename": filename},
    )
    assert again.status_code == 400


def test_upload_refuses_what_is_not_a_document(api: Any) -> None:
    response = api(
        "POST", "/Voucher/Factory/uploadTempFile", files={"file": ("x.txt", b"hello", "text/plain")}
    )
    assert response.status_code == 400


def test_tags_attach_to_vouchers(api: Any, sandboxes: Sandboxes) -> None:
    created = save(api, voucher(), [position()]).json()["objects"]["voucher"]
    tagged = api(
        "POST",
        "/Tag/Factory/create",
        json={"name": "Mismatch", "object": {"id": int(created["id"]), "objectName": "Voucher"}},
    )
    assert tagged.status_code == 200
    [stored] = sandboxes.sevdesk.state(TOKEN)["vouchers"]
    assert stored["tags"] == ["Mismatch"]
