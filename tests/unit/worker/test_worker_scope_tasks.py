"""How the worker runs each scope's app: one task, named, through the loop's task factory if any."""

from __future__ import annotations

import asyncio
from typing import Any

from pagi.worker.config import WorkerConfig
from pagi.worker.runner import SCOPE_TASK_NAME, Worker


class _Scope:
    def __init__(self) -> None:
        self.ran = False

    async def run(self) -> None:
        self.ran = True


async def _app(scope: Any, receive: Any, send: Any) -> None:
    pass


def test_a_scope_task_is_named_and_forgotten_when_done() -> None:
    async def main() -> None:
        worker = Worker(WorkerConfig(app="m:app"), _app)
        worker._loop = asyncio.get_running_loop()
        scope = _Scope()
        worker.start_scope(scope)
        task = worker.tasks[scope]
        assert task.get_name() == SCOPE_TASK_NAME
        await task
        assert scope.ran
        worker.scope_done(scope)
        assert worker.tasks == {}

    asyncio.run(main())


def test_a_task_factory_set_by_the_app_is_used() -> None:
    made: list[asyncio.Task[Any]] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, **kw)
        made.append(task)
        return task

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(factory)  # type: ignore[arg-type]
        worker = Worker(WorkerConfig(app="m:app"), _app)
        worker._loop = loop
        scope = _Scope()
        worker.start_scope(scope)
        assert made == [worker.tasks[scope]]
        await made[0]
        assert scope.ran

    asyncio.run(main())
