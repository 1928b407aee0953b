"""`bot.db.opened`: an update's session is closed, whether or not it began a transaction."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import opened
from bot.domain.enums import Role
from bot.models import Staff


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
