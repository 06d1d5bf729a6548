"""Every recorded fixture says where it came from, and those taken from a vendored spec
are exactly what that spec gives today (see tests/payloads.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.payloads import ROOT, document, every_fixture, load, resolve, sample

FIXTURES = every_fixture()


def test_there_are_fixtures_for_both_services() -> None:
    areas = {p.parent.parent.name for p in FIXTURES}
    assert areas == {"cobot", "sevdesk"}
    assert len(FIXTURES) >= 25


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_fixture_names_its_source(path: Path) -> None:
    fixture = load(path)
    assert fixture.source.get("document"), "every fixture names the document it came from"
    assert fixture.source.get("operation"), "and the call or message it is the payload of"
    if fixture.source["document"].startswith("specs/"):
        assert (ROOT / fixture.source["document"]).is_file()
        modes = {"example", "schema", "response"} & set(fixture.source)
        assert len(modes) == 1, "a spec fixture points at one example, schema or response"
    else:
        assert fixture.source.get("edits"), "a copied fixture says what was changed, if anything"


@pytest.mark.parametrize(
    "path",
    [p for p in FIXTURES if load(p).source["document"].startswith("specs/")],
    ids=lambda p: f"{p.parent.parent.name}/{p.stem}",
)
def test_fixture_is_what_its_spec_documents(path: Path) -> None:
    fixture = load(path)
    assert fixture.body == fixture.derived(), (
        f"{path.name} differs from {fixture.source['document']}: re-record it with "
        "`python -m tests.payloads record` if the spec was refreshed, never by hand"
    )


def test_sampling_follows_the_documented_examples() -> None:
    """The sampler prefers a property's own example, then default, enum and type."""
    doc = {"components": {"schemas": {"Ref": {"type": "integer", "example": 7}}}}
    schema = {
        "type": "object",
        "properties": {
            "example": {"type": "string", "example": "given", "default": "not this"},
            "default": {"type": "string", "default": "fallback"},
            "enum": {"type": "string", "enum": ["first", "second"]},
            "date": {"type": "string", "format": "date-time"},
            "number": {"type": "number"},
            "flag": {"type": "boolean"},
            "list": {"type": "array", "items": {"$ref": "#/components/schemas/Ref"}},
            "secret": {"type": "string", "writeOnly": True},
            "choice": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
        },
    }
    assert sample(schema, doc) == {
        "example": "given",
        "default": "fallback",
        "enum": "first",
        "date": "2019-08-24T14:15:22Z",
        "number": 0,
        "flag": True,
        "list": [7],
        "choice": 0,
    }


def test_documents_read_dates_as_strings_like_json() -> None:
    doc = document("specs/cobot-api2-openapi.yml")
    example = "/paths/~1invoices~1{id}/get/responses/200/content/application~1vnd.api+json"
    invoice = resolve(doc, example + "/examples/default/value")
    assert invoice["data"]["attributes"]["invoiceDate"] == "2019-01-10"
