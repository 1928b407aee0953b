"""Dispatch and queue reads over the database, built on the pure rules in `policy`."""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dispatch.policy import (
    EngineerSnapshot,
    QueueItem,
    choose_engineer,
    order_queue,
    places,
)
from bot.domain.enums import QUEUED_STATUSES, Role, TicketStatus, Urgency
from bot.models import Department, Staff, Ticket

WAITING_STATUSES = (TicketStatus.NEW, TicketStatus.REOPENED)
DISPATCH_LOCK = 0x7265_7061_6972  # "repair": one advisory lock key for every dispatch decision


async def serialize_dispatch(session: AsyncSession) -> None:
    """Hold the dispatch lock until this transaction ends.

    Without it, an engineer going on duty and a report arriving at the same moment each miss
    the other's uncommitted row, and the ticket waits for nobody. On SQLite a write that
    changes nothing does it: it takes the database's single write lock, and the reads after it
    see every committed dispatch.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(DISPATCH_LOCK)))
    else:
        unchanged = update(Staff).where(false()).values(on_duty=Staff.on_duty)
        await session.execute(unchanged.execution_options(synchronize_session=False))


class Roster:
    """Every engineer with their load, read once per dispatch and kept current as tickets are
    handed out, so a batch of reports is dispatched with a single read."""

    def __init__(self, engineers: Sequence[Staff], snapshots: Sequence[EngineerSnapshot]) -> None:
        self._staff = {e.id: e for e in engineers}
        self._snapshots = {s.staff_id: s for s in snapshots}

    @classmethod
    async def read(cls, session: AsyncSession) -> "Roster":
        engineers = (await session.scalars(select(Staff).where(Staff.role == Role.ENGINEER))).all()
        rows = await session.execute(
            select(Ticket.assignee_id, Ticket.urgency, func.count())
            .where(Ticket.status.in_(QUEUED_STATUSES), Ticket.assignee_id.is_not(None))
            .group_by(Ticket.assignee_id, Ticket.urgency)
        )
        load: dict[int, float] = {}
        count: dict[int, int] = {}
        for assignee_id, urgency, n in rows:
            assert assignee_id is not None
            load[assignee_id] = load.get(assignee_id, 0.0) + urgency.weight * n
            count[assignee_id] = count.get(assignee_id, 0) + n
        snapshots = [
            EngineerSnapshot(
                staff_id=e.id,
                zones=e.zone_names,
                on_duty=e.on_duty,
                load=load.get(e.id, 0.0),
                open_count=count.get(e.id, 0),
                last_assigned_at=e.last_assigned_at,
            )
            for e in engineers
        ]
        return cls(engineers, snapshots)

    def pick(self, zone: str | None, exclude: frozenset[int] = frozenset()) -> Staff | None:
        choice = choose_engineer(self._snapshots.values(), zone, exclude)
        return None if choice is None else self._staff[choice.staff_id]

    def took(self, engineer: Staff, urgency: Urgency, at: datetime) -> None:
        """`engineer` was given a ticket of `urgency` (on duty or not, e.g. a reopened job
        back to its engineer): later picks in this dispatch see the load."""
        snapshot = self._snapshots.get(engineer.id)
        if snapshot is not None:
            self._snapshots[engineer.id] = replace(
                snapshot,
                load=snapshot.load + urgency.weight,
                open_count=snapshot.open_count + 1,
                last_assigned_at=at,
            )


def _items(tickets: Sequence[Ticket]) -> list[QueueItem]:
    return order_queue(
        QueueItem(t.id, t.department.priority, t.urgency, t.created_at) for t in tickets
    )


async def engineer_queue(session: AsyncSession, engineer_id: int) -> list[Ticket]:
    """The engineer's open jobs in the order they should be done."""
    tickets = (
        await session.scalars(
            select(Ticket).where(
                Ticket.assignee_id == engineer_id, Ticket.status.in_(QUEUED_STATUSES)
            )
        )
    ).all()
    by_id = {t.id: t for t in tickets}
    return [by_id[item.ticket_id] for item in _items(tickets)]


async def waiting_pool(session: AsyncSession) -> list[Ticket]:
    """Tickets nobody could be given yet (nobody on duty), in the order they will be handed out."""
    tickets = (
        await session.scalars(select(Ticket).where(Ticket.status.in_(WAITING_STATUSES)))
    ).all()
    by_id = {t.id: t for t in tickets}
    return [by_id[item.ticket_id] for item in _items(tickets)]


async def _queue_order(session: AsyncSession, where: ColumnElement[bool]) -> list[int]:
    """The ids of one queue in order, from the four columns that order it."""
    rows = await session.execute(
        select(Ticket.id, Department.priority, Ticket.urgency, Ticket.created_at)
        .join(Department, Ticket.department_id == Department.id)
        .where(where)
    )
    return [item.ticket_id for item in order_queue(QueueItem(*row) for row in rows)]


def _queue_of(ticket: Ticket) -> int | Literal["none"] | None:
    """The queue a ticket stands in: its assignee's id, None for the waiting pool, "none" once
    it has left every queue."""
    if ticket.status in QUEUED_STATUSES and ticket.assignee_id is not None:
        return ticket.assignee_id
    return None if ticket.status in WAITING_STATUSES else "none"


async def queue_positions(
    session: AsyncSession, tickets: Iterable[Ticket]
) -> dict[int, int | None]:
    """Tickets ahead of each of these in its queue (None once it has left every queue), each
    queue read once however many of the tickets stand in it."""
    queues: dict[int | None, dict[int, int]] = {}
    positions: dict[int, int | None] = {}
    for ticket in tickets:
        queue = _queue_of(ticket)
        if queue == "none":
            positions[ticket.id] = None
            continue
        if queue not in queues:
            where = (
                Ticket.status.in_(WAITING_STATUSES)
                if queue is None
                else (Ticket.assignee_id == queue) & Ticket.status.in_(QUEUED_STATUSES)
            )
            queues[queue] = places(await _queue_order(session, where))
        positions[ticket.id] = queues[queue][ticket.id]
    return positions


async def queue_position(session: AsyncSession, ticket: Ticket) -> int | None:
    """Tickets ahead of this one in its queue; None once it has left every queue."""
    return (await queue_positions(session, [ticket]))[ticket.id]


async def engineers_with_queue(session: AsyncSession) -> list[tuple[Staff, int]]:
    """Every engineer with the number of jobs in their queue, by name."""
    rows = await session.execute(
        select(Staff, func.count(Ticket.id))
        .outerjoin(Ticket, (Ticket.assignee_id == Staff.id) & Ticket.status.in_(QUEUED_STATUSES))
        .where(Staff.role == Role.ENGINEER)
        .group_by(Staff.id)
        .order_by(Staff.name)
    )
    return [(staff, count) for staff, count in rows]
