"""The vendored API documents are exactly the files specs/SOURCES.md records.

That the build reads nothing outside the checkout is shown by CI, which runs `make test`
in a fresh clone with nothing beside it (.ci/run)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
#: One table row per file: | `name` | bytes | `sha256` |
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<size>\d+) \| `(?P<sha256>[0-9a-f]{64})` \|$")


def recorded() -> dict[str, tuple[int, str]]:
    text = (SPECS / "SOURCES.md").read_text(encoding="utf-8")
    rows = [m for line in text.splitlines() if (m := ROW.match(line))]
    return {m["name"]: (int(m["size"]), m["sha256"]) for m in rows}


def test_the_note_records_every_spec_file_and_nothing_else() -> None:
    present = {p.name for p in SPECS.iterdir() if p.name != "SOURCES.md"}
    assert present == set(recorded()), "specs/ and the table in specs/SOURCES.md differ"
    assert len(present) >= 3


@pytest.mark.parametrize("name", sorted(recorded()))
def test_spec_file_is_byte_for_byte_the_recorded_one(name: str) -> None:
    content = (SPECS / name).read_bytes()
    size, sha256 = recorded()[name]
    assert (len(content), hashlib.sha256(content).hexdigest()) == (size, sha256), (
        f"specs/{name} is not the file recorded in specs/SOURCES.md: a vendored spec is "
        "never edited; refresh it as SOURCES.md describes"
    )


def test_git_keeps_spec_bytes_unconverted() -> None:
    """Line-ending conversion on checkout would change the hashes above."""
    out = subprocess.run(
        ["git", "check-attr", "text", "--", *(f"specs/{n}" for n in recorded())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        pytest.skip("not a git checkout")  # an unpacked source archive, say
    assert all(line.endswith(": text: unset") for line in out.stdout.splitlines()), out.stdout
