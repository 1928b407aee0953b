"""One leader among the replicas runs the scheduled jobs and the outbox sender.

The leader is whoever holds a PostgreSQL session-level advisory lock on a connection of its
own. If that process dies, its connection closes, the lock is freed, and another replica takes
over within `retry`. On SQLite (one process) this process leads at once.
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
Duty = Callable[[], Awaitable[None]]


class Leadership:
    def __init__(self, engine: AsyncEngine, retry: timedelta) -> None:
        self.engine = engine
        self.retry = retry.total_seconds()
        self.leading = asyncio.Event()

    async def run(self, start: Duty, stop: Duty) -> None:
        """Lead whenever possible until cancelled: `start` on taking the lead, `stop` on
        losing it (or on cancellation)."""
        if self.engine.dialect.name != "postgresql":
            await self._lead(start, stop, None)
            return
        while True:
            try:
                async with self.engine.connect() as conn:
                    taken = await conn.scalar(select(func.pg_try_advisory_lock(LEADER_LOCK)))
                    await conn.commit()  # the lock is the session's: no transaction left open
                    if taken:
                        await self._lead(start, stop, conn)
            except (DBAPIError, OSError):
                log.warning("lost the database connection that held the lead")
            await asyncio.sleep(self.retry)

    async def _lead(self, start: Duty, stop: Duty, conn: AsyncConnection | None) -> None:
        log.info("this process leads: scheduled jobs and the outbox sender run here")
        await start()
        self.leading.set()
        try:
            while True:
                await asyncio.sleep(self.retry)
                if conn is not None:
                    await conn.execute(select(1))  # raises if the lock's connection died
                    await conn.commit()
        finally:
            self.leading.clear()
            await asyncio.shield(stop())
            if conn is not None:
                with contextlib.suppress(DBAPIError, OSError):
                    await asyncio.shield(conn.execute(select(func.pg_advisory_unlock(LEADER_LOCK))))
