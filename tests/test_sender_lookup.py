"""The sender of every update, looked up for many updates at once (SQLite, and PostgreSQL when
configured): one query for a burst, the record in each handler's session without another."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.enums import Role
from bot.models import Staff
from bot.services.staff import SenderLookup


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_burst_of_updates_is_looked_up_in_one_or_two_queries(
    hospital: AsyncSession, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lookup = SenderLookup(sessionmaker)
    senders = [9001, 9002, 9100, 5001, 777_777] * 4  # four of each; the last is a stranger
    sessions = [sessionmaker() for _ in senders]
    with statements(engine) as seen:
        found = await asyncio.gather(
            *(lookup.into(s, telegram_id) for s, telegram_id in zip(sessions, senders, strict=True))
        )
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    # The first lookup runs at once, alone; the nineteen that came meanwhile share the next.
    assert 1 <= len(selects) <= 2
    for staff, telegram_id in zip(found, senders, strict=True):
        if telegram_id == 777_777:
            assert staff is None
        else:
            assert staff is not None and staff.telegram_id == telegram_id
    engineer = found[0]
    assert engineer is not None and engineer.role is Role.ENGINEER
    for session in sessions:
        await session.close()


async def test_the_record_joins_the_handlers_session_and_changes_are_written(
    hospital: AsyncSession, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lookup = SenderLookup(sessionmaker)
    async with sessionmaker() as session:
        with statements(engine) as seen:
            staff = await lookup.into(session, 9002)
            assert staff is not None and staff in session
            assert staff.zone_names == frozenset({"B"})  # the zones came with it
        assert len(seen) == 1, "the handler's session itself ran no query"
        staff.language = "zh"
        await session.commit()
    async with sessionmaker() as session:
        language = await session.scalar(select(Staff.language).where(Staff.telegram_id == 9002))
    assert language == "zh"


async def test_a_change_committed_meanwhile_is_seen_by_the_next_update(
    hospital: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Nothing is cached between updates: a revoked role counts at once."""
    lookup = SenderLookup(sessionmaker)
    async with sessionmaker() as session:
        staff = await lookup.into(session, 9001)
        assert staff is not None and staff.role is Role.ENGINEER
    async with sessionmaker() as session:
        revoked = await session.scalar(select(Staff).where(Staff.telegram_id == 9001))
        assert revoked is not None
        revoked.role = Role.REPORTER
        await session.commit()
    async with sessionmaker() as session:
        staff = await lookup.into(session, 9001)
        assert staff is not None and staff.role is Role.REPORTER
