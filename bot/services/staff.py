"""Who is who: looking up staff, self-registration of ward users, departments."""

import asyncio
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db import standalone
from bot.domain.enums import Role
from bot.models import Department, Staff


async def staff_by_telegram_id(session: AsyncSession, telegram_id: int) -> Staff | None:
    found = await session.scalars(Staff.with_zones().where(Staff.telegram_id == telegram_id))
    return found.unique().one_or_none()


class SenderLookup:
    """Every update's sender, looked up for all the updates waiting at once: while one query
    runs, the lookups that arrive wait for the next, which reads them all.

    Alone, each update paid a connection check-out and a transaction of its own: about 3.5 ms
    of a text report's 8 in `bench/intake.py` back then, more than everything else the
    handlers do. The read runs without a transaction on PostgreSQL (`standalone`). A lookup
    that finds none running is read at once, so a quiet desk waits no longer than before; a
    burst of N updates costs a few queries instead of N transactions.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._waiting: dict[int, list[asyncio.Future[Staff | None]]] = {}
        self._worker: asyncio.Task[None] | None = None

    async def find(self, telegram_id: int) -> Staff | None:
        """The sender's staff record (None for a stranger), as of now, detached: every update of
        the same sender waiting with this one gets the same object, so read it and merge it
        into a session (`load=False`: no query) before changing it or linking it to rows."""
        future: asyncio.Future[Staff | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(telegram_id, []).append(future)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="sender-lookup")
        return await future

    async def _work(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                async with self.sessionmaker() as session:
                    await standalone(session)  # one read: no transaction
                    query = Staff.with_zones().where(Staff.telegram_id.in_(batch))
                    found = await session.scalars(query)
                    staff = {s.telegram_id: s for s in found.unique()}
                    session.expunge_all()
            except Exception as exc:
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for telegram_id, futures in batch.items():
                for future in futures:
                    if not future.done():  # its update may have been cancelled meanwhile
                        future.set_result(staff.get(telegram_id))


async def register_reporter(
    session: AsyncSession, clock: Clock, telegram_id: int, name: str, language: str
) -> Staff:
    staff = Staff(
        telegram_id=telegram_id,
        name=name[:120] or str(telegram_id),
        role=Role.REPORTER,
        language=language,
        created_at=clock.now(),
        zones=[],
    )
    session.add(staff)
    await session.flush()
    return staff


async def set_language(
    session: AsyncSession, clock: Clock, telegram_id: int, name: str, language: str
) -> tuple[Staff, bool]:
    """Store someone's language; a stranger is registered with it (as /start would). Returns
    the staff member and whether they are new."""
    staff = await staff_by_telegram_id(session, telegram_id)
    if staff is None:
        return await register_reporter(session, clock, telegram_id, name, language), True
    staff.language = language
    await session.flush()
    return staff, False


async def departments_page(
    session: AsyncSession, page: int, size: int
) -> tuple[Sequence[Department], int]:
    """One page of departments by name, and how many pages there are."""
    total = await session.scalar(select(func.count()).select_from(Department)) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    rows = await session.scalars(
        select(Department).order_by(Department.name).offset(page * size).limit(size)
    )
    return rows.all(), pages


async def set_department(session: AsyncSession, staff: Staff, department_id: int) -> Department:
    department = await session.get(Department, department_id)
    if department is None:
        raise LookupError(department_id)
    staff.department = department
    await session.flush()
    return department
