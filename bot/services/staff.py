"""Who is who: looking up staff, self-registration of ward users, departments."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.clock import Clock
from bot.domain.enums import Role
from bot.models import Department, Staff


async def staff_by_telegram_id(session: AsyncSession, telegram_id: int) -> Staff | None:
    """One query, zones joined: every update looks its sender up, and the zones' usual
    second query (selectin) cost a round trip each time."""
    found = await session.scalars(
        select(Staff).options(joinedload(Staff.zones)).where(Staff.telegram_id == telegram_id)
    )
    return found.unique().one_or_none()


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
