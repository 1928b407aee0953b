"""The advisory-lock lease behind the leader and the poller (bot/leader.py), on its own."""

import asyncio
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.leader import LEADER_LOCK, Leadership
from tests.conftest import skip_on_sqlite

RETRY = timedelta(milliseconds=100)


async def terminate_lock_holder(engine: AsyncEngine, lock: int) -> None:
    """Cut the database connection holding advisory lock `lock`, as a network fault would."""
    async with engine.connect() as conn:
        pid = await conn.scalar(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND (classid::bigint << 32 | objid::bigint) = :lock"
            ),
            {"lock": lock},
        )
        assert pid is not None
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await conn.commit()


class Duty:
    """Records when the lease starts and stops its holder's work."""

    def __init__(self) -> None:
        self.log: list[str] = []

    async def start(self) -> None:
        self.log.append("start")

    async def stop(self) -> None:
        self.log.append("stop")

    async def logged(self, *expected: str) -> None:
        async with asyncio.timeout(5):
            while tuple(self.log) != expected:
                await asyncio.sleep(0.02)


async def test_the_lease_holder_works_until_the_end(engine: AsyncEngine) -> None:
    duty = Duty()
    lease = Leadership(engine, RETRY)
    running = asyncio.create_task(lease.run(duty.start, duty.stop))
    await asyncio.wait_for(lease.leading.wait(), 5)
    lease.end()
    await asyncio.wait_for(running, 5)
    assert duty.log == ["start", "stop"] and not lease.leading.is_set()


async def test_a_holder_whose_connection_is_cut_stops_then_takes_the_lock_again(
    database_url: str, engine: AsyncEngine
) -> None:
    skip_on_sqlite(database_url, "the lease is a PostgreSQL advisory lock")
    duty = Duty()
    lease = Leadership(engine, RETRY)
    running = asyncio.create_task(lease.run(duty.start, duty.stop))
    await duty.logged("start")
    await terminate_lock_holder(engine, LEADER_LOCK)
    await duty.logged("start", "stop", "start")  # the lock was free again: nobody else wanted it
    assert lease.leading.is_set()
    lease.end()
    await asyncio.wait_for(running, 5)
    assert duty.log == ["start", "stop", "start", "stop"]


async def test_only_one_of_two_holds_the_lease_and_the_other_takes_over(
    database_url: str, engine: AsyncEngine
) -> None:
    skip_on_sqlite(database_url, "the lease is a PostgreSQL advisory lock")
    first, second = Duty(), Duty()
    leases = Leadership(engine, RETRY), Leadership(engine, RETRY)
    runs = [asyncio.create_task(leases[0].run(first.start, first.stop))]
    await first.logged("start")
    runs.append(asyncio.create_task(leases[1].run(second.start, second.stop)))
    await asyncio.sleep(0.5)  # five of the second's tries
    assert second.log == []
    leases[0].end()
    await second.logged("start")
    assert first.log == ["start", "stop"]
    leases[1].end()
    await asyncio.wait_for(asyncio.gather(*runs), 5)


async def test_an_end_that_comes_before_the_run_still_ends_it(engine: AsyncEngine) -> None:
    """A replica may be told to stop while its lease task has not yet run a step."""
    duty = Duty()
    lease = Leadership(engine, RETRY)
    lease.end()
    await asyncio.wait_for(lease.run(duty.start, duty.stop), 5)
    assert duty.log == [] and not lease.leading.is_set()
