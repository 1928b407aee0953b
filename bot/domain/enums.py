"""Vocabularies shared by the domain, the models and the interface."""

from enum import StrEnum


class Role(StrEnum):
    REPORTER = "reporter"
    ENGINEER = "engineer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Urgency(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Sort key: lower is more urgent."""
        return _URGENCY_ORDER.index(self)

    @property
    def weight(self) -> float:
        """How much one open ticket of this urgency loads an engineer."""
        return _URGENCY_WEIGHT[self]


_URGENCY_ORDER = (Urgency.CRITICAL, Urgency.HIGH, Urgency.NORMAL, Urgency.LOW)
_URGENCY_WEIGHT = {
    Urgency.CRITICAL: 4.0,
    Urgency.HIGH: 2.0,
    Urgency.NORMAL: 1.0,
    Urgency.LOW: 0.5,
}


class TicketStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset(
    {
        TicketStatus.NEW,
        TicketStatus.ASSIGNED,
        TicketStatus.ACCEPTED,
        TicketStatus.ON_SITE,
        TicketStatus.REOPENED,
    }
)
"""Statuses in which a ticket still waits for IT work (resolved waits for the reporter)."""

QUEUED_STATUSES = frozenset({TicketStatus.ASSIGNED, TicketStatus.ACCEPTED, TicketStatus.ON_SITE})
"""Statuses in which a ticket sits in an engineer's queue."""


class AssetStatus(StrEnum):
    IN_SERVICE = "in_service"
    SPARE = "spare"
    IN_REPAIR = "in_repair"
    SENT_OUT = "sent_out"
    SCRAPPED = "scrapped"
