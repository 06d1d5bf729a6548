"""German and French are complete, and the committed .mo files match the .po files."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "src" / "cobot_sevdesk" / "locale"
ENTRY = re.compile(
    r'^(#[^\n]*\n)*msgid ((?:"(?:[^"\\]|\\.)*"\n)+)(?:msgid_plural ((?:"(?:[^"\\]|\\.)*"\n)+))?'
    r'((?:msgstr(?:\[\d\])? (?:"(?:[^"\\]|\\.)*"\n?)+)+)',
    re.M,
)


def text(chunk: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', chunk)
    return "".join(parts).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


@pytest.mark.parametrize("language", ["de", "fr"])
def test_catalogue_is_complete_and_compiled(language: str) -> None:
    po = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    assert "#, fuzzy" not in po
    catalogue = gettext.GNUTranslations(
        (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb")
    )
    entries = [m for m in ENTRY.finditer(po + "\n") if text(m.group(2))]
    assert len(entries) > 150
    for match in entries:
        msgid = text(match.group(2))
        translations = [
            text(t)
            for t in re.findall(r'msgstr(?:\[\d\])? ((?:"(?:[^"\\]|\\.)*"\n?)+)', match.group(4))
        ]
        assert all(translations), f"untranslated in {language}: {msgid!r}"
        if match.group(3):
            assert catalogue.ngettext(msgid, text(match.group(3)), 1) == translations[0]
        else:
            assert catalogue.gettext(msgid) == translations[0], (
                f"{language}.mo is stale for {msgid!r}"
            )
        for placeholder in re.findall(r"%\(\w+\)s", msgid):
            assert all(placeholder in t for t in translations), (language, msgid)
