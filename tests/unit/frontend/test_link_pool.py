"""WorkerPool: which worker a new scope goes to, and waiting for one."""

from __future__ import annotations

import asyncio

from link_doubles import run
from pagi.frontend.link.pool import WorkerPool

# --- pool ------------------------------------------------------------------------


class FakeLink:
    def __init__(self, name: str, capacity: int = 0) -> None:
        self.name = name
        self.capacity = capacity
        self.open_scopes = 0
        self.draining = False


def _pool(*links: FakeLink) -> WorkerPool:
    pool = WorkerPool()
    for link in links:
        pool.add(link)  # type: ignore[arg-type]
    return pool


def test_pick_prefers_the_least_loaded_and_rotates_ties() -> None:
    a, b, c = FakeLink("a"), FakeLink("b"), FakeLink("c")
    pool = _pool(a, b, c)
    assert [pool.pick().name for _ in range(6)] == ["a", "b", "c", "a", "b", "c"]  # type: ignore[union-attr]
    b.open_scopes = 3
    a.open_scopes = 1
    c.open_scopes = 1
    assert [pool.pick().name for _ in range(4)] == ["a", "c", "a", "c"]  # type: ignore[union-attr]
    a.open_scopes = 0
    assert pool.pick() is a


def test_pick_skips_draining_and_full_workers() -> None:
    a, b = FakeLink("a", capacity=2), FakeLink("b")
    pool = _pool(a, b)
    b.draining = True
    assert len(pool) == 1
    assert pool.pick() is a
    a.open_scopes = 2
    assert pool.pick() is None
    b.draining = False
    assert pool.pick() is b
    pool.remove(b)  # type: ignore[arg-type]
    assert pool.pick() is None


def test_wait_is_woken_by_a_joining_worker_or_freed_capacity() -> None:
    async def main() -> None:
        pool = WorkerPool()
        assert await pool.wait(0.05) is None
        a = FakeLink("a", capacity=1)
        waiter = asyncio.ensure_future(pool.wait(5))
        await asyncio.sleep(0.01)
        pool.add(a)  # type: ignore[arg-type]
        assert await waiter is a
        a.open_scopes = 1
        w1 = asyncio.ensure_future(pool.wait(5))
        w2 = asyncio.ensure_future(pool.wait(0.3))
        await asyncio.sleep(0.01)
        a.open_scopes = 0
        pool.capacity_changed()  # one free slot: wakes the first waiter only
        assert await w1 is a
        a.open_scopes = 1
        assert await w2 is None  # timed out, still full

    run(main)
