"""The toolkit's services and parsing, directly over the database: inspections, the asset life
cycle, repair-report answers."""

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import AssetStatus, TicketKind, TicketStatus
from bot.domain.repairs import parse_amount, parse_minutes, parse_return_date
from bot.domain.ticket_flow import Action, NotAllowed
from bot.i18n import Translator
from bot.models import Asset, AssetEvent, SpareLoan, Staff, Ticket
from bot.services.inspections import open_due_inspections
from bot.services.lifecycle import AssetMoveRefused, change_status, manual_moves, move_asset
from bot.services.spares import SpareService, SpareUnavailable
from bot.services.tickets import TicketService
from bot.sla.policy import SlaPolicy, load_policy, parse_policy
from tests.conftest import FakeClock, seed_hospital
from tests.test_ticket_service import on_duty, person

DEFAULT = load_policy(None)
DEFAULT_TEXT = resources.files("bot.sla").joinpath("default_policy.toml").read_text("utf-8")


def described_in(language: str) -> Callable[[timedelta], str]:
    """How the app has inspections described: in the hospital's language."""
    t = Translator(language)
    return lambda interval: t("ticket.inspection_description", every=interval)


KOREAN = described_in("ko")


def with_inspections(lines: str) -> SlaPolicy:
    """The default policy with its [inspection] table replaced."""
    return parse_policy(DEFAULT_TEXT.split("[inspection]")[0] + "[inspection]\n" + lines)


async def device(session: AsyncSession, code: str) -> Asset:
    found = await session.scalar(select(Asset).where(Asset.code == code))
    assert found is not None
    return found


async def test_due_inspections_open_tickets_in_the_devices_zone_within_the_daily_cap(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    tickets = TicketService(hospital, clock)
    await on_duty(tickets, hospital, 9001, 9002)
    policy = with_inspections('pc = "30d"\nprinter = "90d"\n')
    first = await open_due_inspections(tickets, policy, per_day=1, describe=KOREAN)
    assert [(n.recipient.telegram_id, n.key) for n in first.notices] == [(9001, "job.inspection")]
    opened = (await hospital.scalars(select(Ticket))).all()
    assert [(t.kind, t.asset.code, t.reporter_id, t.status) for t in opened] == [
        (TicketKind.INSPECTION, "PC-0001", None, TicketStatus.ASSIGNED)
    ]
    assert opened[0].description == "정기 점검 (30일마다)"
    assert (
        await open_due_inspections(tickets, policy, per_day=1, describe=KOREAN)
    ).notices == []  # cap
    clock.advance(days=1, seconds=1)
    second = await open_due_inspections(tickets, policy, per_day=5, describe=KOREAN)
    assert [n.params["asset"] for n in second.notices] == ["PR-0001"]  # PC-0001's is pending
    assert (await open_due_inspections(tickets, policy, per_day=5, describe=KOREAN)).notices == []

    engineer = await person(hospital, 9001)
    pc_check = opened[0]
    await tickets.act(engineer, pc_check.id, Action.ACCEPT)
    done = await tickets.act(engineer, pc_check.id, Action.RESOLVE, "청소, 팬 점검")
    assert pc_check.status is TicketStatus.CLOSED and done.notices == []  # nobody to confirm
    assert (await device(hospital, "PC-0001")).inspected_at == clock.now()
    clock.advance(days=29)
    assert (await open_due_inspections(tickets, policy, per_day=5, describe=KOREAN)).notices == []
    clock.advance(days=2)
    again = await open_due_inspections(tickets, policy, per_day=5, describe=KOREAN)
    assert [n.params["asset"] for n in again.notices] == ["PC-0001"]
    assert (
        await hospital.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.kind == TicketKind.INSPECTION)
        )
        == 3
    )


async def test_no_interval_or_no_room_opens_nothing(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    tickets = TicketService(hospital, clock)
    assert (
        await open_due_inspections(tickets, with_inspections(""), per_day=5, describe=KOREAN)
    ).notices == []
    assert (await open_due_inspections(tickets, DEFAULT, per_day=0, describe=KOREAN)).notices == []


async def test_asset_life_cycle_is_checked_and_logged(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    pc = await device(hospital, "PC-0001")
    supervisor, nurse = await person(hospital, 9100), await person(hospital, 5001)
    assert manual_moves(pc) == [AssetStatus.SPARE, AssetStatus.SCRAPPED]
    with pytest.raises(AssetMoveRefused):
        move_asset(hospital, clock, pc, AssetStatus.ON_LOAN, supervisor, "spare first")
    with pytest.raises(NotAllowed):
        change_status(hospital, clock, nurse, pc, AssetStatus.SCRAPPED, "mine now")
    with pytest.raises(NotAllowed):
        change_status(hospital, clock, supervisor, pc, AssetStatus.SENT_OUT, "by hand")
    change_status(hospital, clock, supervisor, pc, AssetStatus.SCRAPPED, "보드 손상")
    assert manual_moves(pc) == []
    with pytest.raises(AssetMoveRefused):
        change_status(hospital, clock, supervisor, pc, AssetStatus.IN_SERVICE, "oops")
    await hospital.flush()
    events = (await hospital.scalars(select(AssetEvent))).all()
    assert [(e.from_status, e.to_status, e.reason, e.actor_id) for e in events] == [
        (AssetStatus.IN_SERVICE, AssetStatus.SCRAPPED, "보드 손상", supervisor.id)
    ]


@pytest.mark.parametrize(
    ("text", "amount"),
    [("35000", "35000"), ("35,000원", "35000"), ("₩ 1,200", "1200"), ("12.5", "12.5")],
)
def test_amounts_in_the_forms_staff_write(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["", "많이", "-5", "1.234", "99999999999"])
def test_amounts_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_time_spent_and_return_dates() -> None:
    assert [parse_minutes(x) for x in ("45", "45분", "1h30m", "2시간")] == [45, 45, 90, 120]
    for bad in ("0", "soon", "9999h"):
        with pytest.raises(ValueError):
            parse_minutes(bad)
    today = date(2026, 11, 23)
    assert parse_return_date("2026-12-01", today) == date(2026, 12, 1)
    assert parse_return_date("12/1", today) == date(2026, 12, 1)
    assert parse_return_date("1/5", today) == date(2027, 1, 5)
    assert parse_return_date("7d", today) == today + timedelta(days=7)
    with pytest.raises(ValueError):
        parse_return_date("13/45", today)


async def test_two_engineers_lending_one_spare_at_once_get_it_once(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessionmaker() as session:
        await seed_hospital(session, clock)
        tickets = TicketService(session, clock)
        await on_duty(tickets, session, 9001, 9002)
        pc = await device(session, "PC-0001")
        session.add(
            Asset(
                code="SP-1",
                type="pc",
                model="HP",
                department_id=pc.department_id,
                status=AssetStatus.SPARE,
            )
        )
        nurse = await person(session, 5001)
        first = (await tickets.report(nurse, "PC 고장", asset=pc)).ticket
        second = (await tickets.report(nurse, "다른 PC 고장")).ticket
        assert first is not None and second is not None
        spare_id = (await device(session, "SP-1")).id
        jobs = [(first.id, first.assignee_id), (second.id, second.assignee_id)]
        await session.commit()

    async def lend(ticket_id: int, staff_id: int | None) -> str:
        async with sessionmaker() as session:
            staff = await session.get(Staff, staff_id)
            assert staff is not None
            try:
                await SpareService(TicketService(session, clock)).lend(staff, ticket_id, spare_id)
                await session.commit()
            except SpareUnavailable:
                return "refused"
            return "lent"

    results = await asyncio.gather(*(lend(ticket_id, staff_id) for ticket_id, staff_id in jobs))
    assert sorted(results) == ["lent", "refused"]
    async with sessionmaker() as session:
        loans = (await session.scalars(select(SpareLoan))).all()
        assert len(loans) == 1 and (await device(session, "SP-1")).status is AssetStatus.ON_LOAN
