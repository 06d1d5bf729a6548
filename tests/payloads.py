"""Recorded payloads in the official shapes, and where each one came from.

A fixture file (``tests/<area>/fixtures/*.json``) holds one HTTP answer or webhook body::

    {"_source": {...}, "status": 200, "content_type": "application/json",
     "body": <the payload, exactly as documented>}

(``status`` defaults to 200 and ``content_type`` to ``application/json``.)

``_source`` says where the body came from:

- ``"document"`` under ``specs/`` with ``"example"``: a JSON pointer to an example in
  that document, copied verbatim (Cobot API 2 has whole-response examples);
- ``"document"`` under ``specs/`` with ``"schema"``: a JSON pointer to a response schema
  whose payload the document only describes property by property (sevDesk). The body is
  what a rendered documentation page shows as its response sample: built from each
  property's own ``example`` by the rules of openapi-sampler, which Redoc uses (sevdesk's
  docs link into Redoc's ``#tag/.../operation/...`` anchors); see ``sample``;
- ``"document"`` under ``specs/`` with ``"response"``: a response the document gives by
  status and description only; the body is empty (``null``);
- anything else: copied from the team's API notes (``reference/*.md``), which cite the
  vendor's docs pages, or from the vendor's own example data; the note names the page
  and any edit made to get valid JSON.

``tests/test_payloads.py`` re-derives every body taken from ``specs/`` and fails if the
file differs, so a fixture cannot drift from the document it claims to come from.
``python -m tests.payloads record`` rewrites those bodies after a spec refresh.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from cobot_sevdesk import jsonutil
from cobot_sevdesk.sandbox.server import App, Request, Response, SandboxServer

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
TESTS = ROOT / "tests"


# ----------------------------------------------------------------- documents
class _JsonLikeLoader(yaml.SafeLoader):
    """YAML as a JSON tool reads it: unquoted dates stay strings."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def document(name: str) -> Any:
    """A vendored document, by its path relative to the repository (``specs/...``)."""
    path = (ROOT / name).resolve()
    if SPECS not in path.parents:
        raise ValueError(f"{name} is not a vendored spec under specs/")
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_JsonLikeLoader)  # noqa: S506 (a SafeLoader)


def resolve(doc: Any, pointer: str) -> Any:
    """RFC 6901 JSON pointer (``/paths/~1Contact/get``)."""
    node = doc
    for raw in pointer.lstrip("/").split("/") if pointer not in ("", "/") else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


# ----------------------------------------------------------------- sampling
_STRING_FORMATS = {
    "email": "user@example.com",
    "date-time": "2019-08-24T14:15:22Z",
    "date": "2019-08-24",
    "time": "14:15:22Z",
    "uuid": "095be615-a8ad-4c33-8e9c-c7612fbf6c9f",
    "uri": "http://example.com",
    "hostname": "example.com",
    "ipv4": "192.168.0.1",
    "byte": "U3dhZ2dlciByb2Nrcw==",
    "binary": "string",
    "password": "pa$$word",
}


def sample(
    schema: Any, doc: Any, *, response: bool = True, _seen: frozenset[str] = frozenset()
) -> Any:
    """The response sample a reader of the rendered documentation sees for ``schema``.

    The rules are openapi-sampler's (Redoc renders response samples with it):
    a schema's own ``example`` wins; then ``default``, ``const``, the first ``enum``
    value, the first of ``examples``; otherwise one value per type (objects property by
    property, arrays with one item, strings by format or ``"string"``, numbers 0,
    booleans true). ``allOf`` is merged, ``oneOf``/``anyOf`` take the first choice;
    write-only properties are left out of responses and read-only ones out of requests.
    """
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in _seen:  # a recursive schema: stop, as openapi-sampler does
            return {}
        return sample(
            resolve(doc, ref.removeprefix("#")), doc, response=response, _seen=_seen | {ref}
        )
    if "example" in schema:
        return schema["example"]
    if "allOf" in schema:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for raw in schema["allOf"]:
            part = resolve(doc, raw["$ref"].removeprefix("#")) if "$ref" in raw else raw
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        return sample(merged, doc, response=response, _seen=_seen)
    for choice in ("oneOf", "anyOf"):
        if schema.get(choice):
            return sample(schema[choice][0], doc, response=response, _seen=_seen)
    for key in ("default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else None
    if kind == "object" or kind is None:
        skip = "writeOnly" if response else "readOnly"
        return {
            name: sample(prop, doc, response=response, _seen=_seen)
            for name, prop in (schema.get("properties") or {}).items()
            if not _flag(prop, skip, doc)
        }
    if kind == "array":
        items = schema.get("items") or {}
        return [sample(items, doc, response=response, _seen=_seen)]
    if kind == "string":
        return _STRING_FORMATS.get(schema.get("format", ""), "string")
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return True
    return None


def _flag(schema: Any, name: str, doc: Any) -> bool:
    if "$ref" in schema:
        schema = resolve(doc, schema["$ref"].removeprefix("#"))
    return bool(schema.get(name))


# ----------------------------------------------------------------- fixtures
@dataclass(frozen=True)
class Recorded:
    path: Path
    source: dict[str, Any]
    status: int
    content_type: str
    body: Any

    @property
    def name(self) -> str:
        return self.path.stem

    def derived(self) -> Any:
        """The body as the cited document gives it today, or None if not from specs/."""
        name = self.source.get("document", "")
        if not name.startswith("specs/"):
            return None
        doc = document(name)
        if "example" in self.source:
            return resolve(doc, self.source["example"])
        if "schema" in self.source:
            return sample(resolve(doc, self.source["schema"]), doc)
        # A response the document describes by status alone: no body.
        response = resolve(doc, self.source["response"])
        if "content" in response:
            raise ValueError(f"{self.path.name}: {self.source['response']} has content")
        return None

    def content(self) -> bytes:
        return b"" if self.body is None else jsonutil.dumps(self.body).encode()


def load(path: Path) -> Recorded:
    data = jsonutil.loads(path.read_bytes())
    return Recorded(
        path,
        data["_source"],
        int(data.get("status", 200)),
        data.get("content_type", "application/json"),
        data["body"],
    )


def recorded(area: str, name: str) -> Recorded:
    return load(TESTS / area / "fixtures" / f"{name}.json")


def every_fixture() -> list[Path]:
    return sorted(TESTS.glob("*/fixtures/*.json"))


def record() -> list[Path]:
    """Rewrite the body of every fixture taken from ``specs/`` from its document."""
    changed = []
    for path in every_fixture():
        fixture = load(path)
        body = fixture.derived()
        if body is None or body == fixture.body:
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        data["body"] = body
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        changed.append(path)
    return changed


# ----------------------------------------------------------------- serving
class FixtureApp(App):
    """A server that answers each route with one recorded payload, so the real clients
    (HTTP, envelope handling, parsing) read exactly what the vendor documents."""

    name = "fixtures"

    def answer(self, method: str, path: str, fixture: Recorded) -> None:
        def handler(request: Request) -> Response:
            return Response(fixture.status, fixture.content(), content_type=fixture.content_type)

        self.route(method, path, handler)


@contextmanager
def serving(*routes: tuple[str, str, Recorded]) -> Iterator[SandboxServer]:
    app = FixtureApp()
    for method, path, fixture in routes:
        app.answer(method, path, fixture)
    server = SandboxServer(app)
    # A short poll interval: stopping waits for one poll, and tests start many servers.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join()


if __name__ == "__main__":
    if sys.argv[1:] != ["record"]:
        sys.exit("usage: python -m tests.payloads record")
    for changed in record():
        print(f"re-recorded {changed.relative_to(ROOT)}")
