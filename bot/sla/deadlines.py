"""Which stage a ticket is in, since when, and when that stage is due: plain arithmetic."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.enums import TicketStatus, Urgency
from bot.sla.policy import SlaPolicy, Stage


@dataclass(frozen=True)
class TicketClock:
    """What the SLA needs to know about one ticket."""

    status: TicketStatus
    urgency: Urgency
    fault_type: str | None
    device_type: str | None
    priority: bool
    assigned_at: datetime | None
    accepted_at: datetime | None


@dataclass(frozen=True)
class Due:
    stage: Stage
    deadline: datetime
    escalate_at: datetime


_RUNNING = {
    TicketStatus.ASSIGNED: (Stage.ACCEPT, "assigned_at"),
    TicketStatus.ACCEPTED: (Stage.REPAIR, "accepted_at"),
    TicketStatus.ON_SITE: (Stage.REPAIR, "accepted_at"),
}


def due(policy: SlaPolicy, ticket: TicketClock) -> Due | None:
    """The running stage's deadline, or None when no engineer clock runs (waiting, done).

    The clock starts when the stage starts, so a transfer (new assignment) or a reopen restarts
    it, and an urgency change moves it: the deadline is always derived, never stored.
    """
    running = _RUNNING.get(ticket.status)
    if running is None:
        return None
    stage, started_field = running
    started: datetime | None = getattr(ticket, started_field)
    if started is None:
        return None

    def limit(of: Stage) -> timedelta:
        return policy.limit(
            of,
            ticket.urgency,
            fault_type=ticket.fault_type,
            asset_type=ticket.device_type,
            priority=ticket.priority,
        )

    deadline = started + limit(stage)
    return Due(stage, deadline, deadline + limit(Stage.ESCALATE_AFTER))
