"""Group commit of webhook inserts: concurrent callers share statements, each gets
its own answer after its row is committed, and errors reach every caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from cobot_sevdesk.ledger.intake import GroupCommit, Key


class Table:
    """A stand-in for the ledger table with its unique key; records each statement."""

    def __init__(self, delay: float = 0.01, fail: bool = False) -> None:
        self.rows: dict[Key, int] = {}
        self.statements: list[int] = []
        self.delay = delay
        self.fail = fail
        self.lock = threading.Lock()

    def insert_many(self, keys: Sequence[Key], source: str) -> dict[Key, int]:
        time.sleep(self.delay)  # the round trip, during which others queue up
        if self.fail:
            raise ConnectionError("database went away")
        with self.lock:
            self.statements.append(len(keys))
            created = {}
            for key in keys:
                if key not in self.rows:
                    self.rows[key] = len(self.rows) + 1
                    created[key] = self.rows[key]
            return created


def hammer(commit: GroupCommit, keys: list[Key]) -> list[int | BaseException | None]:
    results: list[int | BaseException | None] = [None] * len(keys)
    start = threading.Barrier(len(keys))

    def call(n: int) -> None:
        start.wait()
        try:
            results[n] = commit.insert(keys[n], "webhook")
        except BaseException as exc:
            results[n] = exc

    threads = [threading.Thread(target=call, args=(n,)) for n in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_inserts_share_statements_and_each_gets_its_row() -> None:
    table = Table()
    keys = [(1, "invoice", f"inv-{n}") for n in range(40)]
    results = hammer(GroupCommit(table.insert_many), keys)
    assert results == [table.rows[k] for k in keys]
    assert sum(table.statements) == 40
    assert len(table.statements) < 40  # batched
    assert max(table.statements) > 1


def test_a_repeated_key_is_inserted_once_and_reported_as_known_later() -> None:
    table = Table()
    commit = GroupCommit(table.insert_many)
    first = commit.insert((1, "invoice", "a"), "webhook")
    assert first == 1
    assert commit.insert((1, "invoice", "a"), "webhook") is None
    assert table.rows == {(1, "invoice", "a"): 1}


def test_a_lone_caller_is_its_own_leader() -> None:
    table = Table(delay=0.0)
    commit = GroupCommit(table.insert_many)
    assert [commit.insert((1, "member", str(n)), "webhook") for n in range(3)] == [1, 2, 3]
    assert table.statements == [1, 1, 1]


def test_a_failed_statement_fails_every_caller_in_it_and_the_next_batch_works() -> None:
    table = Table(fail=True)
    commit = GroupCommit(table.insert_many)
    results = hammer(commit, [(1, "invoice", f"x{n}") for n in range(10)])
    assert all(isinstance(r, ConnectionError) for r in results)
    table.fail = False
    assert commit.insert((1, "invoice", "after"), "webhook") == 1


@pytest.mark.parametrize("batch", [1, 3])
def test_batches_are_capped_and_the_lead_passes_on(batch: int) -> None:
    table = Table()
    keys = [(2, "invoice", f"k{n}") for n in range(12)]
    results = hammer(GroupCommit(table.insert_many, max_batch=batch), keys)
    assert results == [table.rows[k] for k in keys]
    assert max(table.statements) <= batch
