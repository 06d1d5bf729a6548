"""A small page to create members and invoices by hand (``/_sandbox/ui``; the demo
links to it). What it creates fires webhooks like anything an admin does in Cobot."""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from cobot_sevdesk.sandbox.app import App, Area, HttpError, Request, Response
from cobot_sevdesk.sandbox.cobot.control import Control
from cobot_sevdesk.sandbox.cobot.state import CobotState

PAGE = """<!doctype html><html><head><meta charset='utf-8'><title>Cobot sandbox</title>
<style>body{{font:15px system-ui;margin:2rem;max-width:60rem}}
section{{border:1px solid #ccc;border-radius:8px;padding:0 1rem 1rem;margin:1rem 0}}
label{{margin-right:.6rem}}.done{{background:#e6f6ea;padding:.5rem}}</style></head>
<body><h1>Cobot sandbox</h1>
<p>Create members and invoices here; Cobot's webhooks tell the add-on at once.</p>
{notice}{sections}</body></html>"""

SECTION = """<section><h2>{name}</h2>
<form method='post' action='/_sandbox/ui/member'>
<input type='hidden' name='space' value='{space}'>
<h3>New member</h3>
<label>Name <input name='name' required></label> <label>E-mail <input name='email'></label>
<label>Company <input name='company'></label> <label>City <input name='city'></label>
<button>Create member</button></form>
<form method='post' action='/_sandbox/ui/invoice'>
<input type='hidden' name='space' value='{space}'>
<h3>New invoice</h3>
<label>Member <select name='member'><option value=''>(walk-in guest)</option>
{members}</select></label>
<label>Line <input name='description' value='Day pass' required></label>
<label>Net amount <input name='amount' value='19.50' required></label>
<label>VAT <select name='rate'><option>19</option><option>7</option><option>0</option>
</select></label>
<label>Accounting code <select name='code'>{codes}</select></label>
<button>Create invoice</button></form></section>"""


def _done(message: str) -> Response:
    """Back to the page, which shows ``message``."""
    return Response(303, b"", {"Location": "/_sandbox/ui?" + urlencode({"done": message})})


class Ui(Area[CobotState]):
    def __init__(self, state: CobotState, control: Control) -> None:
        super().__init__(state)
        self.control = control

    def register(self, app: App) -> None:
        app.route("GET", "/_sandbox/ui", self.page)
        app.route("POST", "/_sandbox/ui/member", self.member)
        app.route("POST", "/_sandbox/ui/invoice", self.invoice)

    def page(self, request: Request) -> Response:
        esc = html.escape
        notice = (
            f"<p class='done'>{esc(request.arg('done') or '')}</p>" if request.arg("done") else ""
        )
        sections = []
        for space in self.state.spaces.values():
            members = "".join(
                f"<option value='{esc(m['id'])}'>{esc(m['name'])}</option>"
                for m in space.memberships.values()
                if m["confirmed_at"]
            )
            codes = "".join(f"<option>{esc(c['name'])}</option>" for c in space.accounting_codes)
            sections.append(
                SECTION.format(
                    name=esc(space.name), space=esc(space.subdomain), members=members, codes=codes
                )
            )
        body = PAGE.format(notice=notice, sections="".join(sections) or "<p>No spaces yet.</p>")
        return Response(200, body, content_type="text/html; charset=utf-8")

    def member(self, request: Request) -> Response:
        form = request.form()
        space = self.state.spaces.get(form.get("space", ""))
        if space is None or not form.get("name", "").strip():
            raise HttpError(400, {"error": "space and name are required"})
        spec = {k: form[k] for k in ("name", "email", "company", "city") if form.get(k)}
        self.control.create_membership(space, spec)
        return _done(f"Member {spec['name']} created.")

    def invoice(self, request: Request) -> Response:
        form = request.form()
        space = self.state.spaces.get(form.get("space", ""))
        if space is None:
            raise HttpError(400, {"error": "no such space"})
        try:
            amount = Decimal(form.get("amount", ""))
        except ArithmeticError:
            raise HttpError(400, {"error": "the amount must be a number"}) from None
        spec: dict[str, Any] = {
            "lines": [
                {
                    "description": form.get("description") or "Item",
                    "quantity": "1",
                    "unit_net": str(amount),
                    "tax_rate": form.get("rate", "19"),
                    "accounting_code": form.get("code") or None,
                }
            ],
        }
        if form.get("member"):
            spec["membership_id"] = form["member"]
        else:
            spec["recipient"] = {
                "name": "Walk-in guest",
                "company": None,
                "countryCode": space.country_code,
            }
        invoice = self.control.create_invoice(space, spec)
        return _done(f"Invoice {invoice['number']} created.")
