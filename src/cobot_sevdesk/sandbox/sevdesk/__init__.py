"""A stateful fake of the sevDesk API v1 (bookkeeping system 2.0).

It answers in the live shapes (ids, sums and flags as strings, everything inside
``objects``; single GETs as a one-element array, some helpers as a bare object) and
enforces the validation rules sevDesk documents for ``saveVoucher``. Where the real
API's behaviour is not documented, the choice is marked GUESS or LENIENT (accepting
more than the real service might, so that our client, not the sandbox, is what keeps
us safe).

Each area is a module with one class that holds the shared ``SevdeskState`` and
registers its routes: ``contacts``, ``bookkeeping`` (booking accounts, tax rules, cost
centres), ``vouchers``, ``banking`` (check accounts, bank lines, booking payments),
``files_tags`` and ``control``.

Inspection API (not part of sevDesk), all under ``/_sandbox``:
``POST /accounts`` create an account with a token; ``GET /accounts/<token>`` its full
state; ``POST /accounts/<token>/booking-accounts``, ``DELETE
/accounts/<token>/booking-accounts/<number>``; ``POST /accounts/<token>/cost-centres``;
``POST /accounts/<token>/contacts``; ``DELETE`` and ``PATCH
/accounts/<token>/vouchers/<id>`` (an accountant deletes or edits a receipt in the web
app); ``POST /accounts/<token>/revoke``;
``POST /accounts/<token>/restore``; plus the request log and faults of ``App``.
"""

from __future__ import annotations

from cobot_sevdesk.sandbox.app import App, Area
from cobot_sevdesk.sandbox.sevdesk.banking import Banking
from cobot_sevdesk.sandbox.sevdesk.bookkeeping import Bookkeeping
from cobot_sevdesk.sandbox.sevdesk.contacts import Contacts
from cobot_sevdesk.sandbox.sevdesk.control import Control
from cobot_sevdesk.sandbox.sevdesk.files_tags import FilesAndTags
from cobot_sevdesk.sandbox.sevdesk.state import SevdeskState
from cobot_sevdesk.sandbox.sevdesk.vouchers import Vouchers

__all__ = ["SevdeskSandbox"]


class SevdeskSandbox(App):
    name = "sevdesk-sandbox"

    def __init__(self) -> None:
        super().__init__()
        self.state = SevdeskState(self.lock)
        areas: tuple[Area[SevdeskState], ...] = (
            Bookkeeping(self.state),
            Contacts(self.state),
            Vouchers(self.state),
            Banking(self.state),
            FilesAndTags(self.state),
            Control(self.state),
        )
        for area in areas:
            area.register(self)

    def reset(self) -> None:
        super().reset()
        self.state.reset()
