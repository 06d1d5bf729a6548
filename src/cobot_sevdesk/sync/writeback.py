"""sevDesk's customer number goes back to the member in Cobot, and is checked there.

The write is a guess (Cobot does not document a membership update; ``cobot/client.py:
set_customer_number``), so the member is read back after it. Whatever happens, the
contact stays synced: if Cobot refuses the write (4xx) or ignores it, the admin gets
one warning, in Cobot and under "needs your attention", and can switch the write-back
off in the settings. Our messages claim only what the read-back showed.
"""

from __future__ import annotations

from enum import StrEnum

from cobot_sevdesk.cobot.models import Membership
from cobot_sevdesk.errors import PermanentError
from cobot_sevdesk.messages import Message, _
from cobot_sevdesk.sync.context import SpaceContext


class WriteBack(StrEnum):
    #: Written, and the member shows it when read back.
    VERIFIED = "verified"
    #: The member had the number already; nothing was written.
    ALREADY = "already"
    #: Switched off in the settings; nothing was written.
    OFF = "off"
    #: Cobot answered, but the member does not show the number.
    IGNORED = "ignored"
    #: Cobot refused the write (4xx).
    REFUSED = "refused"


FAILED = (WriteBack.IGNORED, WriteBack.REFUSED)


def write_back(ctx: SpaceContext, member: Membership, number: str) -> tuple[WriteBack, str]:
    """Write ``number`` to the member and read it back: (what happened, detail), the
    detail being Cobot's error or the number the member shows instead."""
    if not ctx.space.write_back_numbers:
        return WriteBack.OFF, ""
    if member.customer_number == number:
        return WriteBack.ALREADY, ""
    try:
        ctx.cobot.set_customer_number(member.id, number)
    except PermanentError as exc:
        return WriteBack.REFUSED, exc.service_message
    shown = ctx.cobot.get_membership(member.id).customer_number
    if shown == number:
        return WriteBack.VERIFIED, ""
    return WriteBack.IGNORED, shown or ""


def problem(result: WriteBack, detail: str, number: str) -> Message:
    """What the admin reads when the number did not reach the member."""
    advice = _(
        "The contact in sevDesk is fine. Enter the number on the member's profile in Cobot by "
        "hand, or switch off “Write customer numbers back to Cobot” in the add-on's settings "
        "if Cobot keeps refusing it; then mark this as handled."
    )
    if result == WriteBack.REFUSED:
        return _(
            "Cobot refused to write the customer number %(number)s to the member's profile "
            "(%(error)s). %(advice)s"
        ) % {"number": number, "error": detail, "advice": advice}
    return _(
        "Cobot did not keep the customer number %(number)s on the member's profile (it still "
        "shows %(shown)s). %(advice)s"
    ) % {"number": number, "shown": detail or "–", "advice": advice}
