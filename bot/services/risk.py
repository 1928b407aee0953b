"""Risk-based ETAs over the database: the history, open tickets and roster read in one query each,
then simulated by `bot.risk` (the model is described there).

Read-only: nothing is written and the session is never flushed (queries run without autoflush),
so a dashboard can call it in any unit of work; it sees what is already flushed.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import DateTime, Row, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.enums import Role, TicketStatus, Urgency
from bot.models import Department, Staff, Ticket, Zone, staff_zones
from bot.risk.service_times import Sample, ServiceTimes, estimate_service_times, work_minutes
from bot.risk.simulate import (
    SIMULATED_STATUSES,
    STARTED_STATUSES,
    WAITING_STATUSES,
    EngineerState,
    OpenJob,
    RiskReport,
    Roster,
    resolve_deadline,
    simulate,
)
from bot.sla.deadlines import TicketClock
from bot.sla.policy import SlaPolicy

FINISHED_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
HISTORY_DAYS = 90
PLAIN_TIMESTAMP = DateTime(timezone=True)
"""History stamps are read without the UTC decorator: only their differences are used (all are
stored in UTC), and skipping it saves a third of the time to read 20,000 of them."""

Stamp = datetime | None
HistoryRow = Row[str | None, str, Stamp, Stamp, Stamp, Stamp]
TicketRow = Row[
    int, TicketStatus, Urgency, str, str | None, int | None, datetime, Stamp, Stamp, Stamp, Stamp,
    bool, str,
]  # fmt: skip
EngineerRow = Row[int, bool, str | None]


class RiskService:
    def __init__(self, session: AsyncSession, clock: Clock, policy: SlaPolicy) -> None:
        self.session = session
        self.clock = clock
        self.policy = policy

    async def service_times(self, days: int = HISTORY_DAYS) -> ServiceTimes:
        """Work times of the jobs resolved in the last `days` days (resolved or closed now; a
        reopened one counts once it is resolved again)."""
        now = self.clock.now()
        query = select(
            Ticket.device_type,
            Ticket.fault_type,
            type_coerce(Ticket.accepted_at, PLAIN_TIMESTAMP),
            type_coerce(Ticket.resolved_at, PLAIN_TIMESTAMP),
            type_coerce(Ticket.sent_out_at, PLAIN_TIMESTAMP),
            type_coerce(Ticket.back_at, PLAIN_TIMESTAMP),
        ).where(
            Ticket.status.in_(FINISHED_STATUSES),
            Ticket.resolved_at >= now - timedelta(days=days),
            Ticket.resolved_at <= now,
            Ticket.accepted_at.is_not(None),
        )
        with self.session.no_autoflush:
            rows = (await self.session.execute(query)).all()
        return estimate_service_times(_samples(rows))

    async def snapshot(self) -> tuple[list[OpenJob], list[EngineerState]]:
        """Open tickets needing engineer time (by id) and every engineer, on duty or not."""
        now = self.clock.now()
        tickets = (
            select(
                Ticket.id,
                Ticket.status,
                Ticket.urgency,
                Ticket.fault_type,
                Ticket.device_type,
                Ticket.assignee_id,
                Ticket.created_at,
                Ticket.reopened_at,
                Ticket.assigned_at,
                Ticket.accepted_at,
                Ticket.back_at,
                Department.priority,
                Zone.name.label("zone"),
            )
            .join(Department, Department.id == Ticket.department_id)
            .join(Zone, Zone.id == Department.zone_id)
            .where(Ticket.status.in_(SIMULATED_STATUSES))
            .order_by(Ticket.id)
        )
        engineers = (
            select(Staff.id, Staff.on_duty, Zone.name)
            .outerjoin(staff_zones, staff_zones.c.staff_id == Staff.id)
            .outerjoin(Zone, Zone.id == staff_zones.c.zone_id)
            .where(Staff.role == Role.ENGINEER)
            .order_by(Staff.id)
        )
        with self.session.no_autoflush:
            ticket_rows = (await self.session.execute(tickets)).all()
            engineer_rows = (await self.session.execute(engineers)).all()
        jobs = [job for row in ticket_rows if (job := self._job(row, now)) is not None]
        return jobs, _roster(engineer_rows)

    async def assess(
        self,
        *,
        what_if: Roster | None = None,
        replications: int = 1000,
        seed: int | None = None,
        days: int = HISTORY_DAYS,
        times: ServiceTimes | None = None,
    ) -> RiskReport:
        """OTP and ETAs of every open ticket, under today's roster or the one `what_if` makes of
        it. Compare rosters with the same seed (or `compare`) so only the roster differs.
        `times` (e.g. from a `TimesCache`) spares reading the history again."""
        times = times or await self.service_times(days)
        jobs, engineers = await self.snapshot()
        if what_if is not None:
            engineers = what_if(engineers)
        rng = np.random.default_rng(seed)
        return simulate(jobs, engineers, times, self.clock.now(), replications, rng)

    async def compare(
        self,
        what_if: Roster,
        *,
        replications: int = 1000,
        seed: int | None = None,
        days: int = HISTORY_DAYS,
        times: ServiceTimes | None = None,
    ) -> tuple[RiskReport, RiskReport]:
        """(today's roster, the what-if roster) from one read, on the same random draws."""
        times = times or await self.service_times(days)
        jobs, engineers = await self.snapshot()
        now = self.clock.now()
        draws = np.random.SeedSequence(seed)  # one seed for both runs: the same jobs are drawn
        before = simulate(jobs, engineers, times, now, replications, np.random.default_rng(draws))
        roster = what_if(engineers)
        after = simulate(jobs, roster, times, now, replications, np.random.default_rng(draws))
        return before, after

    def _job(self, row: TicketRow, now: datetime) -> OpenJob | None:
        (
            ticket_id, status, urgency, fault_type, device_type, assignee_id, created_at,
            reopened_at, assigned_at, accepted_at, back_at, priority, zone,
        ) = row  # fmt: skip
        clock = TicketClock(
            status=status,
            urgency=urgency,
            fault_type=fault_type,
            device_type=device_type,
            priority=priority,
            assigned_at=assigned_at,
            accepted_at=accepted_at,
            back_at=back_at,
        )
        waiting_since = reopened_at or created_at
        deadline = resolve_deadline(self.policy, clock, waiting_since)
        if deadline is None:
            return None
        started = status in STARTED_STATUSES
        since = clock.repair_from or waiting_since
        return OpenJob(
            ticket_id=ticket_id,
            # A waiting ticket may still name its engineer from before a reopen: nobody has it.
            engineer_id=None if status in WAITING_STATUSES else assignee_id,
            zone=zone,
            started=started,
            elapsed_minutes=max((now - since).total_seconds() / 60.0, 0.0) if started else 0.0,
            priority=priority,
            urgency=urgency,
            created_at=created_at,
            deadline=deadline,
            device_type=device_type,
            fault_type=fault_type,
        )


def _samples(rows: Iterable[HistoryRow]) -> Iterable[Sample]:
    for device_type, fault_type, accepted_at, resolved_at, sent_out_at, back_at in rows:
        if accepted_at is not None and resolved_at is not None:
            minutes = work_minutes(accepted_at, resolved_at, sent_out_at, back_at)
            yield device_type, fault_type, minutes


def _roster(rows: Iterable[EngineerRow]) -> list[EngineerState]:
    """One row per engineer and zone (one with no zone for an engineer without any)."""
    zones: dict[int, set[str]] = {}
    duty: dict[int, bool] = {}
    for staff_id, on_duty, zone in rows:
        duty[staff_id] = on_duty
        zones.setdefault(staff_id, set())
        if zone is not None:
            zones[staff_id].add(zone)
    return [
        EngineerState(staff_id, frozenset(zones[staff_id]), duty[staff_id]) for staff_id in duty
    ]


class TimesCache:
    """Service-time estimates for one process, re-read from the history at most every `ttl`:
    history moves slowly, and reading it is most of an assessment's cost."""

    def __init__(self, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.ttl = ttl
        self._value: tuple[datetime, ServiceTimes] | None = None

    async def get(self, risk: RiskService) -> ServiceTimes:
        now = risk.clock.now()
        if self._value is None or self._value[0] <= now:
            self._value = (now + self.ttl, await risk.service_times())
        return self._value[1]
