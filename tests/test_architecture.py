"""The shape the code keeps: data flows one way (intake -> queue -> runtime -> use case
-> clients), every state change is a model method, every list of handled events is one
table, and modules stay small. Checked on the source, so a change that breaks the
shape fails here with the place to look."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "cobot_sevdesk"
#: Modules allowed over MAX_LINES, each with the reason the README gives.
LONG_MODULES: dict[str, str] = {}
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def name(path: Path) -> str:
    return ".".join(("cobot_sevdesk", *path.relative_to(PACKAGE).with_suffix("").parts))


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


#: (modules, what they must not import): the direction of the flow.
FORBIDDEN = [
    ("cobot_sevdesk.cobot", ("ledger", "sync", "runtime", "web")),
    ("cobot_sevdesk.sevdesk", ("ledger", "sync", "runtime", "web")),
    ("cobot_sevdesk.ledger.models", ("sync", "runtime", "web", "ledger.intake")),
    ("cobot_sevdesk.sync", ("runtime", "web", "ledger.intake")),
    ("cobot_sevdesk.runtime", ("web", "ledger.intake")),
]
#: What the pure rules may import from the project: nothing that does I/O.
PURE = ("cobot_sevdesk.sync.rules",)
PURE_ALLOWED = (
    "cobot_sevdesk.cobot.models",
    "cobot_sevdesk.sevdesk.models",
    "cobot_sevdesk.errors",
    "cobot_sevdesk.messages",
    "cobot_sevdesk.sync.rules",
)


@pytest.mark.parametrize("path", modules(), ids=name)
def test_data_flows_one_way(path: Path) -> None:
    module = name(path)
    found = imports(path)
    for scope, banned in FORBIDDEN:
        if module.startswith(scope):
            wrong = {m for m in found for b in banned if m.startswith(f"cobot_sevdesk.{b}")}
            assert not wrong, f"{module} imports {sorted(wrong)} against the flow"
    if module.startswith(PURE):
        ours = {m for m in found if m.startswith("cobot_sevdesk")}
        impure = {m for m in ours if not m.startswith(PURE_ALLOWED)}
        assert not impure, f"{module} is a pure rule but imports {sorted(impure)}"
        assert not {m for m in found if m.split(".")[0] in ("requests", "django")}, module


def writes(attribute: str, allowed: set[str]) -> list[str]:
    """Places outside ``allowed`` that write ``attribute``: an assignment to
    ``<object>.<attribute>`` (other than ``self`` in a non-model class) or a queryset
    ``.update(<attribute>=...)``."""
    hits = []
    for path in modules():
        relative = str(path.relative_to(PACKAGE))
        if relative in allowed or relative.startswith("sandbox/"):
            continue  # the sandboxes are the other side (Cobot, sevDesk), not us
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == attribute
                    and not (isinstance(target.value, ast.Name) and target.value.id == "self")
                ):
                    hits.append(f"{relative}:{node.lineno}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and any(k.arg == attribute for k in node.keywords)
            ):
                hits.append(f"{relative}:{node.lineno}")
    return hits


def test_a_spaces_status_is_written_in_one_module() -> None:
    assert writes("status", {"ledger/models/space.py"}) == []


def test_an_items_state_is_written_in_one_module() -> None:
    assert writes("state", {"ledger/models/items.py", "ledger/models/backfill.py"}) == []


def test_handled_event_names_are_in_one_table() -> None:
    pattern = re.compile(
        r"[\"'](created|confirmed|updated|wrote_off|deleted)_(membership|invoice)[\"']"
    )
    hits = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in modules()
        if str(path.relative_to(PACKAGE)) != "cobot/events.py"
        and not str(path.relative_to(PACKAGE)).startswith("sandbox/")
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert hits == []


@pytest.mark.parametrize("path", modules(), ids=name)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    relative = str(path.relative_to(PACKAGE))
    assert lines <= MAX_LINES or relative in LONG_MODULES, f"{relative}: {lines} lines"
