"""Reports filed in batches (bot.services.intake) over a real database: many at once share one
transaction and dispatch, yet each gets what it would have got alone; a redelivered update, an
unfileable report or one that breaks the batch costs nobody else their ticket."""

import asyncio
import re
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import Role, TicketStatus
from bot.models import (
    Asset,
    Attachment,
    AttachmentKind,
    Department,
    OutboxMessage,
    Staff,
    Ticket,
    TicketEvent,
)
from bot.services.intake import Intake, ReportRequest
from bot.services.staff import register_reporter
from bot.services.tickets import EmptyDescription, NeedsDepartment, TicketService
from bot.services.updates import AlreadyHandled
from tests.conftest import FakeClock
from tests.test_ticket_service import nurse_in, on_duty, person

WARDS = ("내과 병동", "응급실", "외과 병동", "중환자실")  # zones A, A, B, B


class Woken:
    def __init__(self) -> None:
        self.times = 0

    def __call__(self) -> None:
        self.times += 1


@pytest.fixture
async def nurses(hospital: AsyncSession, clock: FakeClock) -> list[int]:
    """40 nurses over four wards in two zones, both engineers on duty; their staff ids."""
    service = TicketService(hospital, clock)
    await on_duty(service, hospital, 9001, 9002)
    ids = []
    for n in range(40):
        nurse = await nurse_in(hospital, clock, 6000 + n, WARDS[n % len(WARDS)])
        ids.append(nurse.id)
    await hospital.commit()
    return ids


@pytest.fixture
def desk(sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock) -> Intake:
    return Intake(sessionmaker, clock, None, Woken())


async def test_a_burst_is_filed_in_few_batches_and_each_ack_tells_its_own_place(
    hospital: AsyncSession, desk: Intake, nurses: list[int]
) -> None:
    numbers = await asyncio.gather(
        *(desk.file(ReportRequest(n, f"고장 {i}", update_id=100 + i)) for i, n in enumerate(nurses))
    )
    assert len(set(numbers)) == len(nurses)
    assert isinstance(desk.on_news, Woken)
    assert 1 <= desk.on_news.times <= 3, "the first report alone, the rest together"

    tickets = (await hospital.scalars(select(Ticket).order_by(Ticket.id))).all()
    assert [t.id for t in tickets] == sorted(numbers)
    assert {t.status for t in tickets} == {TicketStatus.ASSIGNED}
    zone_of = {"내과 병동": "A", "응급실": "A", "외과 병동": "B", "중환자실": "B"}
    engineers = {"A": (await person(hospital, 9001)).id, "B": (await person(hospital, 9002)).id}
    for ticket in tickets:
        assert ticket.assignee_id == engineers[zone_of[ticket.department.name]]

    # Every ticket logged twice (reported, assigned); every reporter and engineer told once each.
    events = Counter(
        (await hospital.execute(select(TicketEvent.ticket_id, TicketEvent.action))).all()
    )
    assert set(events.values()) == {1}
    assert len(events) == 2 * len(nurses)
    acks = (
        await hospital.execute(
            select(Ticket.assignee_id, OutboxMessage.text)
            .join(Staff, Staff.telegram_id == OutboxMessage.chat_id)
            .join(Ticket, Ticket.reporter_id == Staff.id)
            .where(Staff.role == Role.REPORTER)
        )
    ).all()
    assert len(acks) == len(nurses)
    # Each ack counts the tickets ahead in the queue as it stands after the whole batch: every
    # engineer's acks read 0 ("다음 차례"), 1, 2, ... once each.
    for engineer_id in engineers.values():
        places = sorted(_ahead(text) for assignee, text in acks if assignee == engineer_id)
        assert places == list(range(len(places)))


def _ahead(ack: str) -> int:
    if "다음 차례" in ack:
        return 0
    found = re.search(r"앞에 (\d+)건", ack)
    assert found is not None, ack
    return int(found.group(1))


async def test_a_redelivered_update_files_nothing_twice_within_a_batch_or_across(
    hospital: AsyncSession, desk: Intake, nurses: list[int]
) -> None:
    first, again = await asyncio.gather(
        desk.file(ReportRequest(nurses[0], "한 번", update_id=7)),
        desk.file(ReportRequest(nurses[0], "한 번", update_id=7)),
        return_exceptions=True,
    )
    later = await asyncio.gather(
        desk.file(ReportRequest(nurses[0], "한 번", update_id=7)), return_exceptions=True
    )
    outcomes = [first, again, *later]
    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert sum(isinstance(o, AlreadyHandled) for o in outcomes) == 2
    assert await hospital.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_a_report_that_cannot_be_filed_gets_its_reason_and_the_others_their_tickets(
    hospital: AsyncSession, desk: Intake, clock: FakeClock, nurses: list[int]
) -> None:
    stranger = await register_reporter(hospital, clock, 7777, "새 직원", "ko")  # no department
    await hospital.commit()
    results = await asyncio.gather(
        desk.file(ReportRequest(nurses[0], "첫 번째")),
        desk.file(ReportRequest(stranger.id, "부서 없음")),
        desk.file(ReportRequest(nurses[1], "   ")),
        desk.file(ReportRequest(nurses[2], "세 번째")),
        return_exceptions=True,
    )
    assert isinstance(results[0], int) and isinstance(results[3], int)
    assert isinstance(results[1], NeedsDepartment)
    assert isinstance(results[2], EmptyDescription)
    described = (await hospital.scalars(select(Ticket.description).order_by(Ticket.id))).all()
    assert described == ["첫 번째", "세 번째"]


async def test_a_report_that_breaks_the_batch_fails_alone(
    hospital: AsyncSession, desk: Intake, nurses: list[int]
) -> None:
    """An attachment kind the database refuses fails the batch's flush; the batch is then filed
    one report at a time, so only that report fails."""
    broken = ReportRequest(nurses[1], "깨진 첨부", attachments=(("fax", "file-1"),))  # type: ignore[arg-type]
    photo = ((AttachmentKind.PHOTO, "file-2"),)
    results = await asyncio.gather(
        desk.file(ReportRequest(nurses[0], "먼저")),  # filed alone: the desk was idle
        desk.file(ReportRequest(nurses[2], "사진과 함께", attachments=photo)),
        desk.file(broken),
        desk.file(ReportRequest(nurses[3], "마지막")),
        return_exceptions=True,
    )
    assert [isinstance(r, int) for r in results] == [True, True, False, True]
    assert isinstance(results[2], StatementError)
    described = (await hospital.scalars(select(Ticket.description).order_by(Ticket.id))).all()
    assert described == ["먼저", "사진과 함께", "마지막"]
    kept = (await hospital.scalars(select(Attachment.file_id))).all()
    assert kept == ["file-2"]


async def test_a_report_names_its_device_and_department(
    hospital: AsyncSession, desk: Intake, nurses: list[int]
) -> None:
    printer = await hospital.scalar(select(Asset).where(Asset.code == "PR-0001"))
    surgery = await hospital.scalar(select(Department).where(Department.name == "외과 병동"))
    assert printer is not None and surgery is not None
    by_device, heard = await asyncio.gather(
        desk.file(ReportRequest(nurses[0], "용지 걸림", asset_id=printer.id)),
        desk.file(
            ReportRequest(nurses[0], "모니터", department_id=surgery.id, device_type="모니터")
        ),
    )
    hospital.expire_all()
    device_ticket = await hospital.get(Ticket, by_device)
    heard_ticket = await hospital.get(Ticket, heard)
    assert device_ticket is not None and heard_ticket is not None
    assert (device_ticket.department.name, device_ticket.device_type) == ("응급실", "printer")
    assert (heard_ticket.department.name, heard_ticket.device_type) == ("외과 병동", "모니터")
    assert heard_ticket.assignee_id == (
        await hospital.scalar(select(Staff.id).where(Staff.telegram_id == 9002))
    )
