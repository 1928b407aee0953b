"""A day at the repair desk in numbers, for supervisors: counts, times, departments, models."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dispatch.queues import engineers_with_queue
from bot.domain.enums import OPEN_STATUSES, TicketStatus
from bot.models import RepairReport, Ticket, TicketEvent

CHART_DAYS = 14
TOP = 5


@dataclass(frozen=True)
class EngineerLine:
    name: str
    queue: int
    accept_minutes: float | None
    resolve_minutes: float | None
    resolved: int = 0
    helped: int = 0
    work_minutes: int = 0
    """Time spent by the repair reports this engineer filed that day (as assignee or helper)."""


@dataclass(frozen=True)
class DaySummary:
    day: date
    received: int
    reopened: int
    closed: int
    still_open: int
    engineers: list[EngineerLine]
    departments: list[tuple[str, int]]
    models: list[tuple[str, int]]
    chart_days: list[date]
    chart_opened: list[int]
    chart_closed: list[int]
    self_solved: int = 0
    """Reports the ward fixed itself with a self-help article (also counted as received, closed)."""


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / 60


def _average(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return mean(present) if present else None


async def day_summary(session: AsyncSession, day: date, zone: ZoneInfo) -> DaySummary:
    """Everything counted by the hospital's local day; the chart covers the 14 days up to it."""
    start = datetime.combine(day, time(), zone)
    end = start + timedelta(days=1)
    window = start - timedelta(days=CHART_DAYS - 1)
    tickets = (
        await session.scalars(
            select(Ticket).where(
                or_(
                    Ticket.created_at.between(window, end),
                    Ticket.closed_at.between(window, end),
                    Ticket.accepted_at.between(start, end),
                    Ticket.resolved_at.between(start, end),
                )
            )
        )
    ).all()

    def local(moment: datetime | None) -> date | None:
        return None if moment is None else moment.astimezone(zone).date()

    chart_days = [window.date() + timedelta(days=n) for n in range(CHART_DAYS)]
    opened = Counter(local(t.created_at) for t in tickets)
    closed = Counter(local(t.closed_at) for t in tickets if t.status is TicketStatus.CLOSED)
    today = [t for t in tickets if local(t.created_at) == day]
    reopened = await session.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.action == "reopen", TicketEvent.at >= start, TicketEvent.at < end)
    )
    still_open = await session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
    )
    rows = await session.execute(
        select(RepairReport.author_id, func.sum(RepairReport.minutes))
        .where(RepairReport.created_at >= start, RepairReport.created_at < end)
        .group_by(RepairReport.author_id)
    )
    work = {author: minutes for author, minutes in rows}
    resolved_today = [t for t in tickets if local(t.resolved_at) == day]
    engineers = []
    for staff, queue in await engineers_with_queue(session):
        theirs = [t for t in tickets if t.assignee_id == staff.id]
        engineers.append(
            EngineerLine(
                staff.name,
                queue,
                _average(
                    [
                        _minutes(t.assigned_at, t.accepted_at)
                        for t in theirs
                        if local(t.accepted_at) == day
                    ]
                ),
                _average(
                    [
                        _minutes(t.accepted_at, t.resolved_at)
                        for t in theirs
                        if local(t.resolved_at) == day
                    ]
                ),
                resolved=sum(1 for t in resolved_today if t.assignee_id == staff.id),
                helped=sum(1 for t in resolved_today if staff.id in t.helper_ids),
                work_minutes=int(work.get(staff.id) or 0),
            )
        )
    departments = Counter(t.department.name for t in today).most_common(TOP)
    models = Counter(t.asset.model for t in tickets if t.asset is not None).most_common(TOP)
    return DaySummary(
        day,
        len(today),
        reopened or 0,
        closed.get(day, 0),
        still_open or 0,
        engineers,
        departments,
        models,
        chart_days,
        [opened.get(d, 0) for d in chart_days],
        [closed.get(d, 0) for d in chart_days],
        sum(1 for t in today if t.self_help_article_id is not None),
    )
