"""Dispatch and queue reads over the database, built on the pure rules in `policy`."""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, false, func, or_, select, update
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
        query = Staff.with_zones().where(Staff.role == Role.ENGINEER)
        engineers = (await session.scalars(query)).unique().all()
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


_Queue = int | None
"""An engineer's queue by their id, None for the waiting pool."""


def _queue_key(status: TicketStatus, assignee_id: int | None) -> _Queue | Literal["none"]:
    """The queue a ticket stands in; "none" once it has left every queue."""
    if status in QUEUED_STATUSES and assignee_id is not None:
        return assignee_id
    return None if status in WAITING_STATUSES else "none"


async def _queues(session: AsyncSession, wanted: set[_Queue]) -> dict[_Queue, dict[int, int]]:
    """The places in each of these queues, read in one query from the columns that order
    them (a batch's tickets stand in every engineer's queue: one query each added up)."""
    if not wanted:
        return {}
    engineers = [queue for queue in wanted if queue is not None]
    where: list[ColumnElement[bool]] = []
    if engineers:
        where.append(Ticket.assignee_id.in_(engineers) & Ticket.status.in_(QUEUED_STATUSES))
    if None in wanted:
        where.append(Ticket.status.in_(WAITING_STATUSES))
    rows = await session.execute(
        select(
            Ticket.status,
            Ticket.assignee_id,
            Ticket.id,
            Department.priority,
            Ticket.urgency,
            Ticket.created_at,
        )
        .join(Department, Ticket.department_id == Department.id)
        .where(or_(*where))
    )
    items: dict[_Queue, list[QueueItem]] = {queue: [] for queue in wanted}
    for status, assignee_id, ticket_id, priority, urgency, created_at in rows:
        queue = _queue_key(status, assignee_id)
        assert queue != "none"  # the query reads queued and waiting tickets only
        items[queue].append(QueueItem(ticket_id, priority, urgency, created_at))
    return {queue: places(i.ticket_id for i in order_queue(q)) for queue, q in items.items()}


async def queue_positions(
    session: AsyncSession, tickets: Iterable[Ticket]
) -> dict[int, int | None]:
    """Tickets ahead of each of these in its queue (None once it has left every queue)."""
    keys = {ticket.id: _queue_key(ticket.status, ticket.assignee_id) for ticket in tickets}
    queues = await _queues(session, {key for key in keys.values() if key != "none"})
    return {
        ticket_id: None if key == "none" else queues[key][ticket_id]
        for ticket_id, key in keys.items()
    }


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
