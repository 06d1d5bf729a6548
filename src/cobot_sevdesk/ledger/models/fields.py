"""A model field for sentences shown to people later, in the reader's language."""

from __future__ import annotations

from typing import Any

from django.db import models

from cobot_sevdesk.messages import Message, as_message


class MessageField(models.JSONField):
    """Stores a ``Message`` (English template plus parameters) as JSON and gives it
    back as a ``Message``, so every admin-visible reason is stored one way and shown
    in the language of whoever reads it. A plain string is stored as a template
    without parameters (shown as written when there is no translation)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Message | None:
        return as_message(super().from_db_value(value, expression, connection))

    def to_python(self, value: Any) -> Message | None:
        return as_message(value)

    def get_prep_value(self, value: Any) -> Any:
        message = as_message(value)
        return super().get_prep_value(message.to_json() if message is not None else None)
