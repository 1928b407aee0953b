"""Dispatch and queue reads over the database, built on the pure rules in `policy`."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dispatch.policy import (
    EngineerSnapshot,
    QueueItem,
    choose_engineer,
    order_queue,
    position_in,
)
from bot.domain.enums import QUEUED_STATUSES, Role, TicketStatus
from bot.models import Staff, Ticket

WAITING_STATUSES = (TicketStatus.NEW, TicketStatus.REOPENED)
DISPATCH_LOCK = 0x7265_7061_6972  # "repair": one advisory lock key for every dispatch decision


async def serialize_dispatch(session: AsyncSession) -> None:
    """Hold the dispatch lock until this transaction ends.

    Without it, an engineer going on duty and a report arriving at the same moment each miss
    the other's uncommitted row, and the ticket waits for nobody. SQLite needs no lock: its
    writers are serialised and each of these transactions writes before it reads.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(DISPATCH_LOCK)))


async def engineer_snapshots(session: AsyncSession) -> list[EngineerSnapshot]:
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
    return [
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


async def pick_engineer(
    session: AsyncSession, ticket: Ticket, exclude: frozenset[int] = frozenset()
) -> Staff | None:
    choice = choose_engineer(
        await engineer_snapshots(session), ticket.department.zone.name, exclude
    )
    return None if choice is None else await session.get(Staff, choice.staff_id)


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


async def queue_position(session: AsyncSession, ticket: Ticket) -> int | None:
    """Tickets ahead of this one in its queue; None once it has left every queue."""
    if ticket.status in QUEUED_STATUSES and ticket.assignee_id is not None:
        queue = await engineer_queue(session, ticket.assignee_id)
    elif ticket.status in WAITING_STATUSES:
        queue = await waiting_pool(session)
    else:
        return None
    return position_in([t.id for t in queue], ticket.id)


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
