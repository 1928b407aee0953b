"""The SLA scan: remind the engineer and the reporter when a stage runs over (accept, repair,
vendor repair, spare loan), and escalate to the supervisors when it is still over after the grace
period. Each alert goes out once."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.enums import CLOCKED_STATUSES, Role
from bot.models import AlertKind, SlaAlert, SpareLoan, Staff, Ticket
from bot.services.notices import STAGE_OF, Notice
from bot.sla.deadlines import Due, TicketClock, due, loan_due
from bot.sla.policy import SlaPolicy

SCAN_LOCK = 0x736C_6173_6361  # "slasca": one scanning process at a time on PostgreSQL
REMINDER_ANSWERS = ("snooze", "on_it")


def clock_of(ticket: Ticket) -> TicketClock:
    return TicketClock(
        status=ticket.status,
        urgency=ticket.urgency,
        fault_type=ticket.fault_type,
        device_type=ticket.device_type,
        priority=ticket.department.priority,
        assigned_at=ticket.assigned_at,
        accepted_at=ticket.accepted_at,
        sent_out_at=ticket.sent_out_at,
        back_at=ticket.back_at,
    )


@dataclass(frozen=True)
class Late:
    """A stage past its limit: on the ticket itself, or a spare lent for it."""

    ticket: Ticket
    due: Due
    engineer: Staff | None
    spare: str | None = None


class SlaService:
    def __init__(self, session: AsyncSession, clock: Clock, policy: SlaPolicy) -> None:
        self.session = session
        self.clock = clock
        self.policy = policy

    async def _lead(self) -> bool:
        """Whether this process scans now; another one holding the lock is doing it."""
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        return bool(await self.session.scalar(select(func.pg_try_advisory_xact_lock(SCAN_LOCK))))

    async def scan(self) -> list[Notice]:
        if not await self._lead():
            return []
        now = self.clock.now()
        watched = union(
            select(Ticket.id).where(Ticket.status.in_(CLOCKED_STATUSES)),
            select(SpareLoan.ticket_id).where(SpareLoan.returned_at.is_(None)),
        )
        rows = await self.session.execute(
            select(SlaAlert.ticket_id, SlaAlert.stage, SlaAlert.kind, SlaAlert.deadline).where(
                SlaAlert.ticket_id.in_(watched)
            )
        )
        sent = {tuple(row) for row in rows}
        notices: list[Notice] = []
        supervisors: list[Staff] | None = None
        for item in await self.overdue():
            ticket, running = item.ticket, item.due
            if (ticket.id, running.stage.value, AlertKind.REMINDER, running.deadline) not in sent:
                self._record(ticket, running, AlertKind.REMINDER)
                notices.extend(self._reminders(item))
            if now >= running.escalate_at and (
                (ticket.id, running.stage.value, AlertKind.ESCALATION, running.deadline) not in sent
            ):
                self._record(ticket, running, AlertKind.ESCALATION)
                if supervisors is None:
                    supervisors = list(
                        (
                            await self.session.scalars(
                                select(Staff).where(Staff.role == Role.SUPERVISOR)
                            )
                        ).all()
                    )
                params = self.late_params(item)
                notices.extend(Notice(s, "sla.escalation", params, ticket.id) for s in supervisors)
        await self.session.flush()
        return notices

    async def overdue(self) -> list[Late]:
        """Open stages past their limit (jobs, vendor repairs, spare loans), most overdue first."""
        now = self.clock.now()
        tickets = (
            await self.session.scalars(select(Ticket).where(Ticket.status.in_(CLOCKED_STATUSES)))
        ).all()
        late = []
        for ticket in tickets:
            running = due(self.policy, clock_of(ticket))
            if running is not None and now >= running.deadline:
                late.append(Late(ticket, running, ticket.assignee))
        loans = await self.session.execute(
            select(SpareLoan, Ticket)
            .join(Ticket, Ticket.id == SpareLoan.ticket_id)
            .where(SpareLoan.returned_at.is_(None))
        )
        for loan, ticket in loans:
            running = loan_due(self.policy, clock_of(ticket), loan.lent_at)
            if now >= running.deadline:
                late.append(Late(ticket, running, loan.lender, loan.spare.code))
        return sorted(late, key=lambda item: item.due.deadline)

    def _record(self, ticket: Ticket, running: Due, kind: AlertKind) -> None:
        self.session.add(
            SlaAlert(
                ticket_id=ticket.id,
                stage=running.stage.value,
                kind=kind,
                deadline=running.deadline,
                sent_at=self.clock.now(),
            )
        )

    def late_params(self, item: Late) -> dict[str, object]:
        late = max(self.clock.now() - item.due.deadline, timedelta(seconds=1))
        ticket = item.ticket
        return {
            "number": ticket.number,
            "stage": item.due.stage,
            "late": late,
            "engineer": item.engineer.name if item.engineer else None,
            "department": ticket.department.name,
            "urgency": ticket.urgency,
            "spare": f" · {item.spare}" if item.spare else "",
        }

    def _reminders(self, item: Late) -> list[Notice]:
        params = self.late_params(item)
        ticket = item.ticket
        notices = []
        if item.engineer is not None:
            buttons = tuple(f"{a}{STAGE_OF}{item.due.stage.value}" for a in REMINDER_ANSWERS)
            notices.append(Notice(item.engineer, "sla.reminder", params, ticket.id, buttons))
        if ticket.reporter is not None:
            notices.append(Notice(ticket.reporter, "sla.reporter_reminder", params, ticket.id))
        return notices
