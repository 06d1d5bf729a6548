"""Sentences for people that are stored and shown later, in the reader's language.

A failure is recorded once (by a worker, in no particular language) and read later by
an admin whose add-on may be in English, German or French, and posted to a Cobot feed
in the space's language. So such sentences are kept as their English template plus
parameters, and rendered when shown.

Use ``_`` from here instead of Django's in code that produces such sentences; it reads
the same (``_("Invoice %(invoice)s ...") % {"invoice": number}``), is found by
``makemessages``, and gives a ``Message`` instead of a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation


class Message:
    __slots__ = ("params", "template")

    def __init__(self, template: str, params: Mapping[str, Any] | None = None) -> None:
        self.template = template
        self.params: dict[str, Any] = dict(params or {})

    def __mod__(self, params: Mapping[str, Any]) -> Message:
        return Message(self.template, params)

    def render(self) -> str:
        """In the active language (the English template when there is no translation)."""
        translated = translation.gettext(self.template)
        if not self.params and "%%" not in translated:
            return translated
        return translated % {k: render(v) for k, v in self.params.items()}

    def english(self) -> str:
        with translation.override("en"):
            return self.render()

    __str__ = render

    def __repr__(self) -> str:
        return f"Message({self.template!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.template, self.params) == (
            other.template,
            other.params,
        )

    def __hash__(self) -> int:
        return hash(self.template)

    def to_json(self) -> dict[str, Any]:
        return {"t": self.template, "p": {k: _param_json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        params = {
            k: cls.from_json(v) if isinstance(v, dict) else v for k, v in data.get("p", {}).items()
        }
        return cls(str(data["t"]), params)


Text = str | Message


def join(separator: str, parts: list[Message]) -> Message:
    """Several messages as one (each still rendered in the reader's language)."""
    template = separator.replace("%", "%%").join(f"%(m{n})s" for n in range(len(parts)))
    return Message(template, {f"m{n}": part for n, part in enumerate(parts)})


def _(template: str) -> Message:
    """Mark an English template for translation; ``%`` fills it in."""
    return Message(template)


def render(value: object) -> str:
    return value.render() if isinstance(value, Message) else str(value)


def english(value: Text) -> str:
    return value.english() if isinstance(value, Message) else value


def as_message(value: object) -> Message | None:
    """A ``Message`` for a stored or given text: a ``Message`` as is, a non-empty string
    as a template without parameters, JSON as stored by ``Message.to_json``; else None."""
    if value is None or isinstance(value, Message):
        return value
    if isinstance(value, str):
        return Message(value) if value else None
    if isinstance(value, dict) and "t" in value:
        return Message.from_json(value)
    return None


def _param_json(value: object) -> Any:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
