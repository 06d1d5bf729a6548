"""Files and tags: the temporary upload a voucher's document is made from
(``saveVoucher`` takes it by its ``filename``), and tags on vouchers and other
documents."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, Request, Response
from cobot_sevdesk.sandbox.sevdesk.state import (
    Account,
    SevdeskState,
    error,
    now,
    page,
    ref,
    s,
    stamp,
)

#: What each kind of accepted upload starts with.
DOCUMENT_SIGNATURES = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1")
TAGGABLE = ("Invoice", "Voucher", "Order", "CreditNote")


def _relation_json(account: Account, relation: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": s(relation["id"]),
        "objectName": "TagRelation",
        "create": stamp(relation["create"]),
        "tag": ref(relation["tag"], "Tag"),
        "object": relation["object"],
        "sevClient": account.client_ref,
    }


class FilesAndTags(Area[SevdeskState]):
    def register(self, app: App) -> None:
        app.route("POST", "/Voucher/Factory/uploadTempFile", self.upload_temp_file)
        app.route("POST", "/Tag/Factory/create", self.create_tag)
        app.route("GET", "/Tag", self.list_tags)
        app.route("GET", "/TagRelation", self.list_tag_relations)

    def upload_temp_file(self, request: Request) -> Response:
        account = self.state.authenticate(request)
        files = request.multipart_files()
        if "file" not in files:
            raise error(400, "No file named 'file' in the upload")
        filename, content = files["file"]
        if not content:
            raise error(400, "Empty file")
        if not content.startswith(DOCUMENT_SIGNATURES):
            raise error(400, "Only PDF, PNG and JPG files are accepted")
        digest = hashlib.sha256(content).hexdigest()
        stored = f"{uuid.uuid4().hex}.pdf"
        with self.state.lock:
            account.temp_files[stored] = {"original": filename, "content": content, "hash": digest}
        return Response(
            201,
            {
                "objects": {
                    "pages": 1,
                    "mimeType": "image/jpg",
                    "originMimeType": "application/pdf",
                    "filename": stored,
                    "contentHash": digest,
                    "content": [],
                }
            },
        )

    def create_tag(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        body = request.json()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise error(422, "name is required")
        target = body.get("object")
        if not isinstance(target, dict) or target.get("objectName") not in TAGGABLE:
            raise error(400, "object must reference an Invoice, Voucher, Order or CreditNote")
        object_id = int(target["id"])
        if target["objectName"] == "Voucher" and object_id not in account.vouchers:
            raise error(404, f"Voucher {object_id} not found")
        with self.state.lock:
            tag_id = next((tid for tid, tname in account.tags.items() if tname == name), None)
            if tag_id is None:
                tag_id = self.state.next_id()
                account.tags[tag_id] = name
            relation: dict[str, Any] = {
                "id": self.state.next_id(),
                "tag": tag_id,
                "object": {"id": object_id, "objectName": target["objectName"]},
                "create": now(),
            }
            account.tag_relations[relation["id"]] = relation
        return {"objects": _relation_json(account, relation)}

    def list_tags(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        name = request.arg("name")
        rows = [
            {
                "id": s(tid),
                "objectName": "Tag",
                "name": tname,
                "create": stamp(now()),
            }
            for tid, tname in account.tags.items()
            if name is None or tname == name
        ]
        return page(request, rows)

    def list_tag_relations(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        return page(request, [_relation_json(account, r) for r in account.tag_relations.values()])
