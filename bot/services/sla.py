"""The SLA scan: remind the engineer and the reporter when a stage runs over, and escalate to
the supervisors when it is still over after the grace period. Each alert goes out once."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.enums import QUEUED_STATUSES, Role
from bot.durations import format_duration
from bot.models import AlertKind, SlaAlert, Staff, Ticket
from bot.services.notices import Notice
from bot.sla.deadlines import Due, TicketClock, due
from bot.sla.policy import SlaPolicy

SCAN_LOCK = 0x736C_6173_6361  # "slasca": one scanning process at a time on PostgreSQL
REMINDER_BUTTONS = ("snooze", "on_it")


def clock_of(ticket: Ticket) -> TicketClock:
    return TicketClock(
        status=ticket.status,
        urgency=ticket.urgency,
        fault_type=ticket.fault_type,
        device_type=ticket.device_type,
        priority=ticket.department.priority,
        assigned_at=ticket.assigned_at,
        accepted_at=ticket.accepted_at,
    )


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
        open_ids = select(Ticket.id).where(Ticket.status.in_(QUEUED_STATUSES))
        sent = {
            (a.ticket_id, a.stage, a.kind, a.deadline)
            for a in (
                await self.session.scalars(select(SlaAlert).where(SlaAlert.ticket_id.in_(open_ids)))
            ).all()
        }
        notices: list[Notice] = []
        supervisors: list[Staff] | None = None
        for ticket, running in await self.overdue():
            if (ticket.id, running.stage.value, AlertKind.REMINDER, running.deadline) not in sent:
                self._record(ticket, running, AlertKind.REMINDER)
                notices.extend(self._reminders(ticket, running))
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
                params = self.late_params(ticket, running)
                notices.extend(Notice(s, "sla.escalation", params, ticket.id) for s in supervisors)
        await self.session.flush()
        return notices

    async def overdue(self) -> list[tuple[Ticket, Due]]:
        """Open tickets whose running stage is past its limit, most overdue first."""
        now = self.clock.now()
        tickets = (
            await self.session.scalars(select(Ticket).where(Ticket.status.in_(QUEUED_STATUSES)))
        ).all()
        late = []
        for ticket in tickets:
            running = due(self.policy, clock_of(ticket))
            if running is not None and now >= running.deadline:
                late.append((ticket, running))
        return sorted(late, key=lambda pair: pair[1].deadline)

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

    def late_params(self, ticket: Ticket, running: Due) -> dict[str, object]:
        late = max(self.clock.now() - running.deadline, timedelta(seconds=1))
        return {
            "number": ticket.number,
            "stage": running.stage,
            "late": format_duration(late),
            "engineer": ticket.assignee.name if ticket.assignee else None,
            "department": ticket.department.name,
            "urgency": ticket.urgency,
        }

    def _reminders(self, ticket: Ticket, running: Due) -> list[Notice]:
        params = self.late_params(ticket, running)
        notices = [Notice(ticket.reporter, "sla.reporter_reminder", params, ticket.id)]
        if ticket.assignee is not None:
            notices.insert(
                0, Notice(ticket.assignee, "sla.reminder", params, ticket.id, REMINDER_BUTTONS)
            )
        return notices
