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
    SENT_OUT = "sent_out"
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
        TicketStatus.SENT_OUT,
        TicketStatus.REOPENED,
    }
)
"""Statuses in which a ticket still waits for IT work (resolved waits for the reporter)."""

QUEUED_STATUSES = frozenset({TicketStatus.ASSIGNED, TicketStatus.ACCEPTED, TicketStatus.ON_SITE})
"""Statuses in which a ticket sits in an engineer's queue (one at a vendor does not load them)."""

CLOCKED_STATUSES = QUEUED_STATUSES | {TicketStatus.SENT_OUT}
"""Statuses in which an SLA stage clock runs on the ticket."""


class TicketKind(StrEnum):
    REPAIR = "repair"
    INSPECTION = "inspection"


class AssetStatus(StrEnum):
    IN_SERVICE = "in_service"
    SPARE = "spare"
    IN_REPAIR = "in_repair"
    SENT_OUT = "sent_out"
    ON_LOAN = "on_loan"
    SCRAPPED = "scrapped"


ASSET_MOVES: dict[AssetStatus, frozenset[AssetStatus]] = {
    AssetStatus.IN_SERVICE: frozenset(
        {AssetStatus.IN_REPAIR, AssetStatus.SENT_OUT, AssetStatus.SPARE, AssetStatus.SCRAPPED}
    ),
    AssetStatus.IN_REPAIR: frozenset(
        {AssetStatus.IN_SERVICE, AssetStatus.SENT_OUT, AssetStatus.SPARE, AssetStatus.SCRAPPED}
    ),
    AssetStatus.SENT_OUT: frozenset(
        {AssetStatus.IN_REPAIR, AssetStatus.IN_SERVICE, AssetStatus.SCRAPPED}
    ),
    AssetStatus.SPARE: frozenset(
        {AssetStatus.ON_LOAN, AssetStatus.IN_SERVICE, AssetStatus.IN_REPAIR, AssetStatus.SCRAPPED}
    ),
    AssetStatus.ON_LOAN: frozenset({AssetStatus.SPARE, AssetStatus.IN_SERVICE}),
    AssetStatus.SCRAPPED: frozenset(),
}
"""The asset life cycle: which status may follow which. Scrapped is final."""
