"""`bot.db`: an update's session is closed, whether or not it began a transaction; a pooled
connection the server closed is not handed out; standalone statements need no transaction."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import create_engine, opened, standalone
from bot.domain.enums import Role
from bot.models import Staff
from tests.conftest import skip_on_sqlite


def staff(telegram_id: int) -> Staff:
    return Staff(
        telegram_id=telegram_id, name="간호사", role=Role.REPORTER, created_at=datetime.now(UTC)
    )


async def test_a_session_that_began_no_transaction_is_closed_in_place(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """As a text report's update session: the sender read as looked up, nothing written."""
    async with opened(sessionmaker) as session:
        assert not session.in_transaction()
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    async with opened(sessionmaker) as again:  # the next update's session works as usual
        again.add(staff(7001))
        await again.commit()
    async with sessionmaker() as other:
        assert [s.telegram_id for s in await other.scalars(select(Staff))] == [7001]


async def test_a_session_that_began_a_transaction_gives_its_connection_back(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with opened(sessionmaker) as session:
        session.add(staff(7002))
        await session.flush()
        assert engine.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    assert not session.in_transaction()
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    async with sessionmaker() as other:  # rolled back, not committed
        assert (await other.scalars(select(Staff))).all() == []


async def test_a_session_is_closed_when_its_block_is_cancelled(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    began = asyncio.Event()

    async def handle() -> None:
        async with opened(sessionmaker) as session:
            await session.scalar(select(Staff.id).limit(1))
            began.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(handle())
    await began.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(
    database_url: str, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """As after a PostgreSQL restart: every idle connection in the pool is gone, and the next
    unit of work still runs, on a new one."""
    skip_on_sqlite(database_url, "the server ends its backends")
    pids = set()
    async with sessionmaker() as one, sessionmaker() as two:  # two connections in the pool
        for session in (one, two):
            pids.add(await session.scalar(text("SELECT pg_backend_pid()")))
    assert len(pids) == 2
    admin = create_engine(database_url)  # a pool of its own, with the URL's credentials
    try:
        # Autocommit: within one transaction pg_stat_activity would stay as first read.
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            ended = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid)"
                    " WHERE pid = ANY(:pids)"
                ),
                {"pids": list(pids)},
            )
            assert ended == 2
            left = text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
            while await connection.scalar(left, {"pids": list(pids)}):
                await asyncio.sleep(0.01)
    finally:
        await admin.dispose()
    for telegram_id in (7101, 7102):  # both were closed: neither is handed out
        async with sessionmaker() as session:
            session.add(staff(telegram_id))
            await session.commit()
            pids.add(await session.scalar(text("SELECT pg_backend_pid()")))
    assert len(pids) == 3  # one new connection served both
    async with sessionmaker() as session:
        assert len((await session.scalars(select(Staff))).all()) == 2


async def test_standalone_statements_run_without_a_transaction_on_postgresql(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Each is its own transaction (PostgreSQL's now() is when a transaction began)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's connection is left as it is")
    async with sessionmaker() as session:
        connection = await standalone(session)
        first = await connection.scalar(text("SELECT now()"))
        await asyncio.sleep(0.01)
        assert await connection.scalar(text("SELECT now()")) > first


async def test_a_standalone_executemany_is_all_or_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """As the sender's outcome records: asyncpg runs one atomically with no transaction."""
    async with sessionmaker() as session:
        session.add_all([staff(7201), staff(7202)])
        await session.commit()
    rename = (
        update(Staff)
        .where(Staff.telegram_id == bindparam("who"))
        .values(telegram_id=bindparam("to"))
    )
    async with sessionmaker() as session:
        connection = await standalone(session)
        rows = [{"who": 7201, "to": 7203}, {"who": 7202, "to": 7203}]
        with pytest.raises(IntegrityError):  # the second wants the number the first just took
            await connection.execute(rename, rows)
    async with sessionmaker() as session:
        found = await session.scalars(select(Staff.telegram_id).order_by(Staff.telegram_id))
        assert found.all() == [7201, 7202]
