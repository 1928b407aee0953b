"""Dispatch rules as pure functions over small snapshots, so they are tested without a database.

- An engineer on duty covering the ticket's zone with the lowest load gets it; when the zone has
  nobody on duty, the least loaded engineer on duty anywhere.
- Load is the engineer's open tickets weighted by urgency. Ties go to fewer open tickets, then to
  whoever was given a job longest ago (round robin), then to the lower id (stable).
- An engineer's queue runs priority departments first, then urgency, then age.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.enums import Urgency


@dataclass(frozen=True)
class EngineerSnapshot:
    staff_id: int
    zones: frozenset[str]
    on_duty: bool
    load: float = 0.0
    open_count: int = 0
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class QueueItem:
    ticket_id: int
    priority: bool
    urgency: Urgency
    created_at: datetime


def load_of(urgencies: Iterable[Urgency]) -> float:
    return sum(urgency.weight for urgency in urgencies)


def _fairness_key(engineer: EngineerSnapshot) -> tuple[float, int, float, int]:
    last = engineer.last_assigned_at.timestamp() if engineer.last_assigned_at else float("-inf")
    return (engineer.load, engineer.open_count, last, engineer.staff_id)


def choose_engineer(
    engineers: Iterable[EngineerSnapshot], zone: str | None, exclude: frozenset[int] = frozenset()
) -> EngineerSnapshot | None:
    """The engineer to push a ticket of `zone` to, or None when nobody is on duty."""
    on_duty = [e for e in engineers if e.on_duty and e.staff_id not in exclude]
    in_zone = [e for e in on_duty if zone is not None and zone in e.zones]
    pool = in_zone or on_duty
    return min(pool, key=_fairness_key, default=None)


def queue_key(item: QueueItem) -> tuple[int, int, datetime, int]:
    return (0 if item.priority else 1, item.urgency.rank, item.created_at, item.ticket_id)


def order_queue(items: Iterable[QueueItem]) -> list[QueueItem]:
    return sorted(items, key=queue_key)


def places(ordered_ids: Iterable[int]) -> dict[int, int]:
    """How many tickets are ahead of each in an ordered queue."""
    return {ticket_id: ahead for ahead, ticket_id in enumerate(ordered_ids)}
