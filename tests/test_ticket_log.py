"""The event log written with Core (bot/services/ticket_log.py): every event logged reaches the
table once, in the order logged, with its ticket's id, unless its transaction rolls back."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import TicketStatus
from bot.models import Staff, TicketEvent
from bot.services.tickets import NewReport, TicketService
from tests.conftest import FakeClock, seed_hospital


async def staff(session: AsyncSession, telegram_id: int) -> Staff:
    found = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))
    assert found is not None
    return found


async def events(session: AsyncSession) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(TicketEvent.ticket_id, TicketEvent.action).order_by(TicketEvent.id)
    )
    return [(ticket_id, action) for ticket_id, action in rows]


async def test_a_batch_of_reports_logs_each_ticket_in_order_with_its_id(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    await service.set_duty(await staff(hospital, 9001), True)
    nurse = await staff(hospital, 5001)
    first, second = await service.report_all(
        [NewReport(nurse, "프린터 고장"), NewReport(nurse, "모니터 고장")]
    )
    await hospital.commit()
    a, b = first.ticket.id, second.ticket.id  # type: ignore[union-attr]
    assert await events(hospital) == [(a, "report"), (b, "report"), (a, "assign"), (b, "assign")]
    data = await hospital.scalar(
        select(TicketEvent.data).where(TicketEvent.ticket_id == a, TicketEvent.action == "assign")
    )
    assert data == {"to": (await staff(hospital, 9001)).id}


async def test_a_query_sees_an_event_logged_before_it_in_the_same_transaction(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    ticket = (await service.report(await staff(hospital, 5001), "PC 고장")).ticket
    assert ticket is not None
    await hospital.commit()
    service.log(ticket, None, "note", ticket.status, ticket.status, said="hello")
    assert (ticket.id, "note") in await events(hospital)  # no flush, no commit asked for


async def test_a_rollback_drops_what_it_logged_and_nothing_leaks_into_the_next_transaction(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessionmaker() as session:
        await seed_hospital(session, clock)
        await session.commit()
        service = TicketService(session, clock)
        ticket = (await service.report(await staff(session, 5001), "키오스크")).ticket
        assert ticket is not None
        await session.commit()
        logged = await events(session)
        service.log(ticket, None, "lost", TicketStatus.NEW, TicketStatus.NEW)
        await session.rollback()
        await session.commit()
        assert await events(session) == logged
    async with sessionmaker() as session:
        assert await events(session) == logged
