"""The ticket life cycle over a real database (SQLite, and PostgreSQL when configured)."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dispatch.queues import engineer_queue, queue_position, queue_positions, serialize_dispatch
from bot.domain.enums import TicketStatus, Urgency
from bot.domain.ticket_flow import Action, ConcurrentChange, IllegalTransition, NotAllowed
from bot.models import (
    Asset,
    AttachmentKind,
    Department,
    Staff,
    Ticket,
    TicketEvent,
    ticket_helpers,
)
from bot.services.notices import ATTACHMENTS
from bot.services.staff import register_reporter
from bot.services.tickets import NeedsDepartment, NewReport, TicketService
from tests.conftest import FakeClock

S = TicketStatus


async def person(session: AsyncSession, telegram_id: int) -> Staff:
    staff = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))
    assert staff is not None
    return staff


async def nurse_in(session: AsyncSession, clock: FakeClock, telegram_id: int, dept: str) -> Staff:
    staff = await register_reporter(session, clock, telegram_id, f"nurse {telegram_id}", "ko")
    staff.department = await session.scalar(select(Department).where(Department.name == dept))
    await session.flush()
    return staff


async def on_duty(service: TicketService, session: AsyncSession, *telegram_ids: int) -> None:
    for telegram_id in telegram_ids:
        await service.set_duty(await person(session, telegram_id), True)


async def test_report_with_nobody_on_duty_waits_and_alerts_supervisors(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    nurse = await person(hospital, 5001)
    outcome = await service.report(nurse, "  프린터가 안 돼요  ")
    ticket = outcome.ticket
    assert ticket is not None
    assert (ticket.status, ticket.assignee_id, ticket.description) == (
        S.NEW,
        None,
        "프린터가 안 돼요",
    )
    keys = [(n.recipient.telegram_id, n.key) for n in outcome.notices]
    assert keys == [(5001, "ticket.created"), (9100, "alert.unassigned")]
    assert outcome.notices[0].params["position"] == 0

    picked = await service.set_duty(await person(hospital, 9002), True)
    assert ticket.status is S.ASSIGNED
    assert ticket.assignee.telegram_id == 9002, "the only engineer on duty takes it, zone or not"
    assert {(n.recipient.telegram_id, n.key) for n in picked.notices} == {
        (9002, "job.assigned"),
        (5001, "ticket.assigned"),
    }


async def test_a_new_ticket_names_its_reporter_department_and_device_in_its_row(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    """They are given to a new ticket as loaded state (`_known`): the row must still say them,
    and its helpers must still take a first helper."""
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001)
    nurse = await person(hospital, 5001)
    printer = await hospital.scalar(select(Asset).where(Asset.code == "PR-0001"))
    assert printer is not None
    ticket = (await service.report(nurse, "용지 걸림", asset=printer)).ticket
    assert ticket is not None
    assert (ticket.reporter, ticket.asset, ticket.department) == (
        nurse,
        printer,
        printer.department,
    )
    assert ticket.helpers == []
    row = (
        await hospital.execute(
            select(
                Ticket.reporter_id, Ticket.department_id, Ticket.asset_id, Ticket.assignee_id
            ).where(Ticket.id == ticket.id)
        )
    ).one()
    engineer = await person(hospital, 9001)
    assert tuple(row) == (nurse.id, printer.department_id, printer.id, engineer.id)
    helper = await person(hospital, 9002)
    ticket.helpers.append(helper)
    await hospital.flush()
    helpers = await hospital.execute(
        select(ticket_helpers.c.staff_id).where(ticket_helpers.c.ticket_id == ticket.id)
    )
    assert helpers.scalars().all() == [helper.id]


async def test_a_reporter_added_in_the_same_transaction_is_named_in_the_row(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    """Not flushed yet when reporting: the reads before the ticket is made flush it first."""
    ward = await hospital.scalar(select(Department).where(Department.name == "외과 병동"))
    nurse = Staff(telegram_id=7009, name="새 간호사", department=ward, created_at=clock.now())
    hospital.add(nurse)
    ticket = (await TicketService(hospital, clock).report(nurse, "모니터 깜빡임")).ticket
    assert ticket is not None
    reporter_id = await hospital.scalar(select(Ticket.reporter_id).where(Ticket.id == ticket.id))
    assert reporter_id is not None
    assert reporter_id == nurse.id


async def test_a_batch_shows_the_attachments_button_only_on_reports_filed_with_one(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    """New tickets' attachments are known from their reports, not read back."""
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001, 9002)
    nurse = await person(hospital, 5001)
    photo = ((AttachmentKind.PHOTO, "file-photo-1"),)
    outcomes = await service.report_all(
        [
            NewReport(nurse, "프린터 용지 걸림"),
            NewReport(nurse, "모니터 화면 깨짐", attachments=photo),
            NewReport(nurse, "키보드 고장"),
        ]
    )
    jobs = [[n for n in o.notices if n.key == "job.assigned"] for o in outcomes]
    assert [[ATTACHMENTS in n.buttons for n in job] for job in jobs] == [[False], [True], [False]]
    again = await service.standing([o.ticket for o in outcomes if o.ticket is not None])
    assert again.with_attachments == {outcomes[1].ticket.id}  # type: ignore[union-attr]


async def test_dispatch_prefers_the_zone_then_load(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001, 9002)
    zone_a = await nurse_in(hospital, clock, 7001, "내과 병동")
    zone_b = await nurse_in(hospital, clock, 7002, "외과 병동")
    zone_c = await nurse_in(hospital, clock, 7003, "원무과")
    first = (await service.report(zone_a, "PC 고장")).ticket
    second = (await service.report(zone_b, "모니터 고장")).ticket
    assert first.assignee.telegram_id == 9001
    assert second.assignee.telegram_id == 9002
    clock.advance(minutes=1)
    await service.set_urgency(zone_a, first.id, Urgency.CRITICAL)
    third = (await service.report(zone_c, "키오스크")).ticket
    assert third.assignee.telegram_id == 9002, "zone C has nobody: least loaded anywhere"


async def test_priority_department_jumps_the_queue(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001)
    ward = await person(hospital, 5001)
    er = await nurse_in(hospital, clock, 7010, "응급실")
    early = (await service.report(ward, "첫 번째", Urgency.CRITICAL)).ticket
    clock.advance(minutes=5)
    later = (await service.report(ward, "두 번째")).ticket
    clock.advance(minutes=5)
    outcome = await service.report(er, "응급실 PC", Urgency.LOW)
    urgent = outcome.ticket
    assert outcome.notices[0].params["position"] == 0
    queue = await engineer_queue(hospital, (await person(hospital, 9001)).id)
    assert [t.id for t in queue] == [urgent.id, early.id, later.id]
    assert await queue_position(hospital, later) == 2


async def test_whole_life_is_stamped_and_logged(hospital: AsyncSession, clock: FakeClock) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001)
    nurse = await person(hospital, 5001)
    engineer = await person(hospital, 9001)
    ticket = (await service.report(nurse, "PC가 켜지지 않음")).ticket
    steps = [
        (engineer, Action.ACCEPT, None, S.ACCEPTED, "ticket.accepted"),
        (engineer, Action.ARRIVE, None, S.ON_SITE, "ticket.on_site"),
        (engineer, Action.RESOLVE, "전원 케이블 교체", S.RESOLVED, "ticket.resolved"),
        (nurse, Action.CONFIRM, None, S.CLOSED, "ticket.closed"),
    ]
    for actor, action, note, status, reporter_key in steps:
        clock.advance(minutes=10)
        outcome = await service.act(actor, ticket.id, action, note)
        assert ticket.status is status
        assert reporter_key in [n.key for n in outcome.notices if n.recipient.id == nurse.id]
    assert ticket.resolution == "전원 케이블 교체"
    stamps = [
        ticket.created_at,
        ticket.assigned_at,
        ticket.accepted_at,
        ticket.on_site_at,
        ticket.resolved_at,
        ticket.closed_at,
    ]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5  # created and assigned together
    events = (
        await hospital.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
    ).all()
    assert [(e.action, e.to_status) for e in events] == [
        ("report", S.NEW),
        ("assign", S.ASSIGNED),
        ("accept", S.ACCEPTED),
        ("arrive", S.ON_SITE),
        ("resolve", S.RESOLVED),
        ("confirm", S.CLOSED),
    ]
    assert events[2].actor_id == engineer.id and events[5].actor_id == nurse.id
    assert events[1].actor_id is None  # dispatch is the system's doing


async def test_refusals_change_nothing(hospital: AsyncSession, clock: FakeClock) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001, 9002)
    nurse = await person(hospital, 5001)
    other_nurse = await nurse_in(hospital, clock, 7020, "원무과")
    engineer = await person(hospital, 9001)
    ticket = (await service.report(nurse, "스캐너")).ticket
    before = await hospital.scalar(select(func.count()).select_from(TicketEvent))
    with pytest.raises(NotAllowed):
        await service.act(
            nurse, ticket.id, Action.ACCEPT
        )  # ward user pressing an engineer's button
    with pytest.raises(NotAllowed):
        await service.act(await person(hospital, 9002), ticket.id, Action.ACCEPT)
    with pytest.raises(NotAllowed):
        await service.act(other_nurse, ticket.id, Action.CANCEL)
    with pytest.raises(IllegalTransition) as info:
        await service.act(engineer, ticket.id, Action.RESOLVE)
    assert info.value.status is S.ASSIGNED
    with pytest.raises(IllegalTransition):
        await service.act(nurse, ticket.id, Action.CONFIRM)
    assert ticket.status is S.ASSIGNED
    assert await hospital.scalar(select(func.count()).select_from(TicketEvent)) == before


async def test_reopen_goes_back_to_the_same_engineer(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001, 9002)
    nurse = await person(hospital, 5001)
    engineer = await person(hospital, 9001)
    ticket = (await service.report(nurse, "프린터 용지 걸림")).ticket
    await service.act(engineer, ticket.id, Action.ACCEPT)
    await service.act(engineer, ticket.id, Action.RESOLVE, "용지 제거")
    outcome = await service.act(nurse, ticket.id, Action.REOPEN)
    assert (ticket.status, ticket.assignee_id) == (S.ASSIGNED, engineer.id)
    assert [n.key for n in outcome.notices] == ["ticket.reopened", "job.reopened"]
    assert outcome.notices[1].buttons == ("accept", "transfer")


async def test_auto_close_only_after_the_grace_period(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001)
    nurse = await person(hospital, 5001)
    engineer = await person(hospital, 9001)
    ticket = (await service.report(nurse, "마우스")).ticket
    await service.act(engineer, ticket.id, Action.ACCEPT)
    await service.act(engineer, ticket.id, Action.RESOLVE, "교체")
    clock.advance(hours=71)
    assert (await service.auto_close(timedelta(hours=72))).notices == []
    clock.advance(hours=1)
    outcome = await service.auto_close(timedelta(hours=72))
    assert ticket.status is S.CLOSED
    assert [n.key for n in outcome.notices] == ["ticket.auto_closed"]


async def test_off_duty_hands_back_only_unaccepted_jobs(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001)
    nurse = await person(hospital, 5001)
    leaving = await person(hospital, 9001)
    started = (await service.report(nurse, "하나")).ticket
    waiting = (await service.report(nurse, "둘")).ticket
    await service.act(leaving, started.id, Action.ACCEPT)
    await on_duty(service, hospital, 9002)
    outcome = await service.set_duty(leaving, False)
    assert started.assignee_id == leaving.id
    assert waiting.assignee.telegram_id == 9002
    assert waiting.status is S.ASSIGNED
    assert {n.key for n in outcome.notices} == {"job.assigned", "ticket.transferred"}
    log = await hospital.scalar(
        select(TicketEvent).where(
            TicketEvent.ticket_id == waiting.id, TicketEvent.action == "transfer"
        )
    )
    assert log is not None and log.data["previous"] == leaving.id


async def test_reporter_without_department_is_asked_first(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    stranger = await register_reporter(hospital, clock, 7777, "new nurse", "ko")
    with pytest.raises(NeedsDepartment):
        await TicketService(hospital, clock).report(stranger, "고장")


async def test_two_presses_at_once_act_once(
    hospital: AsyncSession, clock: FakeClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001)
    ticket = (await service.report(await person(hospital, 5001), "동시 누름")).ticket
    await hospital.commit()
    async with sessionmaker() as first, sessionmaker() as second:
        a, b = TicketService(first, clock), TicketService(second, clock)
        engineer_a, engineer_b = await person(first, 9001), await person(second, 9001)
        await a.get(ticket.id)
        await b.get(ticket.id)
        await a.act(engineer_a, ticket.id, Action.ACCEPT)
        await first.commit()
        with pytest.raises((ConcurrentChange, IllegalTransition)):
            await b.act(engineer_b, ticket.id, Action.ACCEPT)
        await second.rollback()
    accepts = await hospital.scalar(
        select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "accept")
    )
    assert accepts == 1


async def test_only_engineers_go_on_duty(hospital: AsyncSession, clock: FakeClock) -> None:
    service = TicketService(hospital, clock)
    for telegram_id in (5001, 9100):
        with pytest.raises(NotAllowed):
            await service.set_duty(await person(hospital, telegram_id), True)
    assert not (await person(hospital, 9100)).on_duty


async def test_engineer_arriving_while_a_report_is_filed_still_gets_it(
    hospital: AsyncSession, clock: FakeClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Regression: the report and the duty change each missed the other's uncommitted row."""
    async with sessionmaker() as reporting, sessionmaker() as arriving:
        filed = await TicketService(reporting, clock).report(await person(reporting, 5001), "경합")
        assert filed.ticket is not None and filed.ticket.assignee_id is None
        engineer = await person(arriving, 9001)
        duty = asyncio.create_task(TicketService(arriving, clock).set_duty(engineer, True))
        await asyncio.sleep(0.3)  # the duty change now waits for the report's transaction
        await reporting.commit()
        outcome = await duty
        await arriving.commit()
    assert [n.key for n in outcome.notices] == ["job.assigned", "ticket.assigned"]
    ticket = await TicketService(hospital, clock).get(filed.ticket.id)
    await hospital.refresh(ticket)
    assert ticket.assignee_id == engineer.id


async def test_the_dispatch_lock_holds_a_second_dispatch_until_the_first_commits(
    hospital: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """PostgreSQL's advisory lock and SQLite's write lock alike: a report and a duty change
    never read the loads while the other's dispatch is uncommitted."""
    async with sessionmaker() as first, sessionmaker() as second:
        await serialize_dispatch(first)
        waiting = asyncio.create_task(serialize_dispatch(second))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        await first.commit()
        await asyncio.wait_for(waiting, 10)
        await second.commit()


async def test_positions_in_several_queues_at_once_match_each_asked_alone(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001, 9002)
    ward_a = await nurse_in(hospital, clock, 7001, "내과 병동")
    ward_b = await nurse_in(hospital, clock, 7002, "외과 병동")
    a1, a2, b1, b2 = [
        (await service.report(nurse, text)).ticket
        for nurse, text in (
            (ward_a, "PC"),
            (ward_a, "프린터"),
            (ward_b, "모니터"),
            (ward_b, "스캐너"),
        )
    ]
    await service.set_urgency(ward_a, a2.id, Urgency.CRITICAL)  # jumps ahead of a1
    await service.act(ward_b, b1.id, Action.CANCEL)
    for engineer in (9001, 9002):
        await service.set_duty(await person(hospital, engineer), False)
    w1, w2 = [(await service.report(ward_a, text)).ticket for text in ("키오스크", "태블릿")]
    assert [t.assignee_id is None for t in (w1, w2)] == [True, True], "nobody on duty: they wait"
    assert len({t.assignee_id for t in (a1, a2, b2)}) == 1, "the last off duty kept every job"
    b2.assignee = await person(hospital, 9001 if a1.assignee.telegram_id == 9002 else 9002)
    await hospital.flush()  # two engineers' queues and the waiting pool
    tickets = [a1, a2, b1, b2, w1, w2]

    positions = await queue_positions(hospital, tickets)

    assert positions == {t.id: await queue_position(hospital, t) for t in tickets}
    assert [positions[t.id] for t in tickets] == [1, 0, None, 0, 0, 1]
