"""SLA deadlines and the reminder/escalation scan over a real database, with a fake clock."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import AssetStatus, TicketStatus, Urgency
from bot.domain.ticket_flow import Action
from bot.models import Asset, SlaAlert
from bot.services.jobs import JobService
from bot.services.sla import SlaService
from bot.services.spares import SpareService
from bot.services.tickets import TicketService
from bot.sla.deadlines import TicketClock, due
from bot.sla.policy import Stage, parse_policy
from tests.conftest import FakeClock
from tests.test_ticket_service import on_duty, person

POLICY = parse_policy(
    "\n".join(
        f'[urgency.{u.value}]\naccept = "{a}"\nrepair = "{r}"\nsent_out = "7d"\nloan = "14d"\n'
        f'escalate_after = "{e}"\n'
        for u, a, r, e in (
            (Urgency.CRITICAL, "5m", "1h", "5m"),
            (Urgency.HIGH, "10m", "2h", "10m"),
            (Urgency.NORMAL, "15m", "4h", "15m"),
            (Urgency.LOW, "1h", "1d", "1h"),
        )
    )
    + '[priority]\naccept = "3m"\n'
)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def clock_at(status: TicketStatus, **kw: object) -> TicketClock:
    values: dict[str, object] = {
        "status": status,
        "urgency": Urgency.NORMAL,
        "fault_type": None,
        "device_type": None,
        "priority": False,
        "assigned_at": T0,
        "accepted_at": None,
        **kw,
    }
    return TicketClock(**values)  # type: ignore[arg-type]


def test_deadline_follows_the_running_stage() -> None:
    waiting = due(POLICY, clock_at(TicketStatus.ASSIGNED))
    assert waiting is not None and waiting.stage is Stage.ACCEPT
    assert (waiting.deadline, waiting.escalate_at) == (
        T0 + timedelta(minutes=15),
        T0 + timedelta(minutes=30),
    )
    working = due(POLICY, clock_at(TicketStatus.ON_SITE, accepted_at=T0 + timedelta(minutes=5)))
    assert working is not None and working.stage is Stage.REPAIR
    assert working.deadline == T0 + timedelta(hours=4, minutes=5)
    urgent = due(POLICY, clock_at(TicketStatus.ASSIGNED, urgency=Urgency.CRITICAL))
    assert urgent is not None and urgent.deadline == T0 + timedelta(minutes=5)
    priority = due(POLICY, clock_at(TicketStatus.ASSIGNED, priority=True))
    assert priority is not None and priority.deadline == T0 + timedelta(minutes=3)
    for status in (TicketStatus.NEW, TicketStatus.RESOLVED, TicketStatus.CLOSED):
        assert due(POLICY, clock_at(status)) is None


async def test_reminder_once_then_escalation_once(hospital: AsyncSession, clock: FakeClock) -> None:
    tickets, sla = TicketService(hospital, clock), SlaService(hospital, clock, POLICY)
    await on_duty(tickets, hospital, 9001)
    ticket = (await tickets.report(await person(hospital, 5001), "느린 PC")).ticket
    assert ticket is not None
    clock.advance(minutes=14)
    assert await sla.scan() == []
    clock.advance(minutes=2)
    first = await sla.scan()
    assert [(n.recipient.telegram_id, n.key) for n in first] == [
        (9001, "sla.reminder"),
        (5001, "sla.reporter_reminder"),
    ]
    assert first[0].params["late"] == timedelta(minutes=1)
    assert first[0].buttons == ("snooze@accept", "on_it@accept")
    assert await sla.scan() == []
    clock.advance(minutes=15)
    assert [(n.recipient.telegram_id, n.key) for n in await sla.scan()] == [
        (9100, "sla.escalation")
    ]
    assert await sla.scan() == []


async def test_moved_deadlines_are_chased_again(hospital: AsyncSession, clock: FakeClock) -> None:
    tickets, sla = TicketService(hospital, clock), SlaService(hospital, clock, POLICY)
    await on_duty(tickets, hospital, 9001)
    nurse, engineer = await person(hospital, 5001), await person(hospital, 9001)
    ticket = (await tickets.report(nurse, "프린터")).ticket
    assert ticket is not None
    clock.advance(minutes=16)
    assert len(await sla.scan()) == 2
    await tickets.act(engineer, ticket.id, Action.ACCEPT)  # the repair clock starts now
    clock.advance(hours=3)
    assert await sla.scan() == []
    await tickets.set_urgency(nurse, ticket.id, Urgency.CRITICAL)  # 1h limit: 2h over already
    keys = [n.key for n in await sla.scan()]
    assert keys == ["sla.reminder", "sla.reporter_reminder", "sla.escalation"]
    await tickets.act(engineer, ticket.id, Action.RESOLVE, "교체")
    clock.advance(days=2)
    assert await sla.scan() == []


async def test_two_scanners_send_each_alert_once(
    hospital: AsyncSession, clock: FakeClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    tickets = TicketService(hospital, clock)
    await on_duty(tickets, hospital, 9001)
    await tickets.report(await person(hospital, 5001), "동시 스캔")
    await hospital.commit()
    clock.advance(minutes=16)
    sent = []
    async with sessionmaker() as one, sessionmaker() as two:
        sent.append(await SlaService(one, clock, POLICY).scan())
        await one.commit()
        sent.append(await SlaService(two, clock, POLICY).scan())
        await two.commit()
    assert [len(batch) for batch in sent] == [2, 0]
    assert await hospital.scalar(select(func.count()).select_from(SlaAlert)) == 1


def test_vendor_repair_has_its_own_clock_and_repair_restarts_when_it_is_back() -> None:
    accepted = T0 + timedelta(minutes=5)
    away = due(POLICY, clock_at(TicketStatus.SENT_OUT, accepted_at=accepted, sent_out_at=T0))
    assert away is not None and away.stage is Stage.SENT_OUT
    assert away.deadline == T0 + timedelta(days=7)
    back = T0 + timedelta(days=3)
    working = due(
        POLICY,
        clock_at(TicketStatus.ACCEPTED, accepted_at=accepted, sent_out_at=T0, back_at=back),
    )
    assert working is not None and working.stage is Stage.REPAIR
    assert working.deadline == back + timedelta(hours=4)


async def test_vendor_and_loan_reminders_reach_the_engineer_reporter_and_supervisor(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    tickets, sla = TicketService(hospital, clock), SlaService(hospital, clock, POLICY)
    await on_duty(tickets, hospital, 9001)
    engineer, nurse = await person(hospital, 9001), await person(hospital, 5001)
    pc = await hospital.scalar(select(Asset).where(Asset.code == "PC-0001"))
    assert pc is not None
    hospital.add(
        Asset(
            code="SP-9", type="pc", model="HP", department=pc.department, status=AssetStatus.SPARE
        )
    )
    await hospital.flush()
    spare = await hospital.scalar(select(Asset).where(Asset.code == "SP-9"))
    assert spare is not None
    ticket = (await tickets.report(nurse, "부팅 불가", asset=pc)).ticket
    assert ticket is not None
    await tickets.act(engineer, ticket.id, Action.ACCEPT)
    await JobService(tickets).send_out(engineer, ticket.id, "델", None)
    await SpareService(tickets).lend(engineer, ticket.id, spare.id)
    clock.advance(days=7, seconds=1)
    notices = await sla.scan()
    assert sorted((n.recipient.telegram_id, n.key, n.params["stage"]) for n in notices) == [
        (5001, "sla.reporter_reminder", Stage.SENT_OUT),
        (9001, "sla.reminder", Stage.SENT_OUT),
    ]
    clock.advance(days=7)  # the loan's 14 days are up; the vendor repair has escalated
    notices = await sla.scan()
    assert sorted((n.recipient.telegram_id, n.key, n.params["stage"]) for n in notices) == [
        (5001, "sla.reporter_reminder", Stage.LOAN),
        (9001, "sla.reminder", Stage.LOAN),
        (9100, "sla.escalation", Stage.SENT_OUT),
    ]
    assert [n.params["spare"] for n in notices if n.params["stage"] is Stage.LOAN] == [
        " · SP-9",
        " · SP-9",
    ]
    assert await sla.scan() == []
    clock.advance(minutes=16)
    assert [(n.key, n.params["stage"]) for n in await sla.scan()] == [
        ("sla.escalation", Stage.LOAN)
    ]
    overdue = await sla.overdue()
    assert [item.due.stage for item in overdue] == [Stage.SENT_OUT, Stage.LOAN]
