"""The sender of every update, looked up for many updates at once (SQLite, and PostgreSQL when
configured): one query for a burst, the record in each handler's session without another
(`SenderInSession`), or as looked up for a handler that only reads it."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.types import TelegramObject, Update
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.enums import Role
from bot.middlewares import READS_SENDER, SenderInSession
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
    with statements(engine) as seen:
        found = await asyncio.gather(*(lookup.find(telegram_id) for telegram_id in senders))
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


async def pass_through(
    lookup: SenderLookup, session: AsyncSession, telegram_id: int, flags: dict[str, Any]
) -> Staff | None:
    """What `SenderInSession` hands a handler registered with `flags`."""
    handed: list[Staff | None] = []

    async def handler(_event: TelegramObject, data: dict[str, Any]) -> None:
        handed.append(data["staff"])

    data = {
        "staff": await lookup.find(telegram_id),
        "session": session,
        "handler": HandlerObject(handler, flags=flags),
    }
    await SenderInSession()(handler, Update(update_id=1), data)
    return handed[0]


async def test_the_record_joins_the_handlers_session_and_changes_are_written(
    hospital: AsyncSession, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lookup = SenderLookup(sessionmaker)
    async with sessionmaker() as session:
        with statements(engine) as seen:
            staff = await pass_through(lookup, session, 9002, flags={})
            assert staff is not None and staff in session
            assert staff.zone_names == frozenset({"B"})  # the zones came with it
        assert len(seen) == 1, "the handler's session itself ran no query"
        staff.language = "zh"
        await session.commit()
    async with sessionmaker() as session:
        language = await session.scalar(select(Staff.language).where(Staff.telegram_id == 9002))
    assert language == "zh"


async def test_a_handler_that_only_reads_gets_the_record_as_looked_up(
    hospital: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lookup = SenderLookup(sessionmaker)
    async with sessionmaker() as session:
        staff = await pass_through(lookup, session, 9002, flags=READS_SENDER)
        assert staff is not None and staff not in session
        assert staff.role is Role.ENGINEER and staff.zone_names == frozenset({"B"})
        assert not session.in_transaction(), "nothing began in the handler's session"


async def test_a_change_committed_meanwhile_is_seen_by_the_next_update(
    hospital: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Nothing is cached between updates: a revoked role counts at once."""
    lookup = SenderLookup(sessionmaker)
    staff = await lookup.find(9001)
    assert staff is not None and staff.role is Role.ENGINEER
    async with sessionmaker() as session:
        revoked = await session.scalar(select(Staff).where(Staff.telegram_id == 9001))
        assert revoked is not None
        revoked.role = Role.REPORTER
        await session.commit()
    staff = await lookup.find(9001)
    assert staff is not None and staff.role is Role.REPORTER
