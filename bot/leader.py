"""One replica at a time does each thing that must not run twice: the leader runs the scheduled
jobs and the outbox sender; the poller long-polls Telegram (bot/polling.py).

Each is whoever holds a PostgreSQL session-level advisory lock of its own, on a connection of
its own. If that process dies, its connection closes, the lock is freed, and another replica
takes over within `retry`. On SQLite (one process) this process takes every role at once.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
LEADER_LOCK = 0x6C65_6164_6572  # "leader"
POLLER_LOCK = 0x706F_6C6C_6572  # "poller"
Duty = Callable[[], Awaitable[None]]


class Leadership:
    def __init__(
        self,
        engine: AsyncEngine,
        retry: timedelta,
        lock: int = LEADER_LOCK,
        role: str = "leads: scheduled jobs and the outbox sender run here",
    ) -> None:
        self.engine = engine
        self.retry = retry.total_seconds()
        self.lock, self.role = lock, role
        self.leading = asyncio.Event()
        self._ending = asyncio.Event()

    async def run(self, start: Duty, stop: Duty) -> None:
        """Lead whenever possible until `end()` (or cancellation): `start` on taking the lead,
        `stop` on losing it or on the end."""
        if self._ending.is_set():
            return
        if self.engine.dialect.name != "postgresql":
            await self._lead(start, stop, None)
            return
        while True:
            try:
                async with self.engine.connect() as conn:
                    taken = await conn.scalar(select(func.pg_try_advisory_lock(self.lock)))
                    await conn.commit()  # the lock is the session's: no transaction left open
                    if taken:
                        await self._lead(start, stop, conn)
            except (DBAPIError, OSError):
                log.warning("lost the database connection that held the lock (%s)", self.role)
            if await self._pause():
                return

    def end(self) -> None:
        """Stop at the next pause, never in the middle of a query (a connection cancelled
        there cannot go back to its pool, and leaks); before `run()` starts, as it starts."""
        self._ending.set()

    async def _pause(self) -> bool:
        """Wait `retry`; True if `end()` came meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.retry):
                await self._ending.wait()
        return self._ending.is_set()

    async def _lead(self, start: Duty, stop: Duty, conn: AsyncConnection | None) -> None:
        log.info("this process %s", self.role)
        await start()
        self.leading.set()
        try:
            while not await self._pause():
                if conn is not None:
                    await conn.execute(select(1))  # raises if the lock's connection died
                    await conn.commit()
        finally:
            self.leading.clear()
            await asyncio.shield(stop())
            if conn is not None and not conn.invalidated:  # a dead connection holds no lock
                with contextlib.suppress(DBAPIError, OSError):
                    await asyncio.shield(conn.execute(select(func.pg_advisory_unlock(self.lock))))
