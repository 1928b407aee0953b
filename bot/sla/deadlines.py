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
    sent_out_at: datetime | None = None
    back_at: datetime | None = None

    @property
    def repair_from(self) -> datetime | None:
        """The repair clock restarts when the device comes back from the vendor."""
        if self.back_at is not None and self.accepted_at is not None:
            return max(self.accepted_at, self.back_at)
        return self.accepted_at


@dataclass(frozen=True)
class Due:
    stage: Stage
    deadline: datetime
    escalate_at: datetime


_RUNNING = {
    TicketStatus.ASSIGNED: (Stage.ACCEPT, "assigned_at"),
    TicketStatus.ACCEPTED: (Stage.REPAIR, "repair_from"),
    TicketStatus.ON_SITE: (Stage.REPAIR, "repair_from"),
    TicketStatus.SENT_OUT: (Stage.SENT_OUT, "sent_out_at"),
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
    return _due(policy, ticket, stage, started)


def loan_due(policy: SlaPolicy, ticket: TicketClock, lent_at: datetime) -> Due:
    """A spare lent for a ticket is due back within the ticket's loan limit, whatever the
    ticket's own state (the ward may keep it after the job is closed)."""
    return _due(policy, ticket, Stage.LOAN, lent_at)


def _due(policy: SlaPolicy, ticket: TicketClock, stage: Stage, started: datetime) -> Due:
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
