"""The numbers on the IT office's big screen, as one JSON-ready snapshot.

Counted by the hospital's local day; averages over the last week; departments over 30 days;
failure rate per model = tickets per asset of that model over 30 and 90 days; repair cost per
local month (repair reports by their date, vendor charges by the day the device came back).
"""

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.dispatch.queues import engineer_queue, engineers_with_queue
from bot.domain.enums import OPEN_STATUSES, TicketStatus
from bot.models import Asset, Department, RepairReport, Ticket, VendorRepair
from bot.services.risk import RiskService, TimesCache
from bot.services.sla import SlaService
from bot.services.spares import SpareService
from bot.services.tickets import TicketService
from bot.sla.policy import SlaPolicy

TOP = 8
MONTHS = 12
_WORKING = (TicketStatus.ACCEPTED, TicketStatus.ON_SITE)


@dataclass(frozen=True)
class EngineerRow:
    name: str
    on_duty: bool
    zones: list[str]
    queue: int
    current: int | None
    current_status: str | None
    current_department: str | None


@dataclass(frozen=True)
class ModelRow:
    model: str
    assets: int
    tickets_30: int
    tickets_90: int
    rate_30: float
    rate_90: float


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / 60


def _average(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(mean(present), 1) if present else None


def month_keys(today: date, months: int = MONTHS) -> list[str]:
    """`YYYY-MM` for the last `months` months, oldest first, ending with today's."""
    keys = []
    year, month = today.year, today.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


class DashboardService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        policy: SlaPolicy,
        zone: ZoneInfo,
        times: TimesCache | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.policy = policy
        self.zone = zone
        self.times = times or TimesCache()

    async def snapshot(self) -> dict[str, Any]:
        now = self.clock.now()
        today = now.astimezone(self.zone).date()
        start = datetime.combine(today, time(), self.zone)
        return {
            "generated_at": now.isoformat(),
            "day": today.isoformat(),
            "today": await self._today(start, start + timedelta(days=1)),
            "times": await self._times(now - timedelta(days=7)),
            "engineers": [asdict(row) for row in await self._engineers()],
            "departments": await self._departments(now - timedelta(days=30)),
            "models": [asdict(row) for row in await self._models(now)],
            "costs": await self._costs(today),
            "spares": await self._spares(now),
            "risk": await self._risk(),
        }

    async def _count(self, *where: Any) -> int:
        return int(await self.session.scalar(select(func.count(Ticket.id)).where(*where)) or 0)

    async def _today(self, start: datetime, end: datetime) -> dict[str, int]:
        created = (Ticket.created_at >= start, Ticket.created_at < end)
        return {
            "reports": await self._count(*created),
            "opened": await self._count(*created, Ticket.self_help_article_id.is_(None)),
            "closed": await self._count(Ticket.closed_at >= start, Ticket.closed_at < end),
            "open": await self._count(Ticket.status.in_(OPEN_STATUSES)),
            "overdue": len(await SlaService(self.session, self.clock, self.policy).overdue()),
        }

    async def _times(self, since: datetime) -> dict[str, float | None]:
        rows = (
            await self.session.execute(
                select(Ticket.assigned_at, Ticket.accepted_at, Ticket.resolved_at).where(
                    Ticket.accepted_at >= since
                )
            )
        ).all()
        return {
            "accept_minutes": _average([_minutes(a, b) for a, b, _ in rows]),
            "resolve_minutes": _average([_minutes(b, c) for _, b, c in rows]),
        }

    async def _engineers(self) -> list[EngineerRow]:
        rows = []
        for staff, queue in await engineers_with_queue(self.session):
            jobs = await engineer_queue(self.session, staff.id) if queue else []
            working = [t for t in jobs if t.status in _WORKING]
            current = working[0] if working else (jobs[0] if jobs else None)
            rows.append(
                EngineerRow(
                    name=staff.name,
                    on_duty=staff.on_duty,
                    zones=sorted(staff.zone_names),
                    queue=queue,
                    current=current.number if current else None,
                    current_status=current.status.value if current else None,
                    current_department=current.department.name if current else None,
                )
            )
        return rows

    async def _departments(self, since: datetime) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(Department.name, func.count(Ticket.id))
            .join(Ticket, Ticket.department_id == Department.id)
            .where(Ticket.created_at >= since)
            .group_by(Department.name)
            .order_by(func.count(Ticket.id).desc(), Department.name)
            .limit(TOP)
        )
        return [{"name": name, "count": count} for name, count in rows]

    async def _models(self, now: datetime) -> list[ModelRow]:
        rows = await self.session.execute(
            select(Asset.model, func.count(Asset.id)).group_by(Asset.model)
        )
        assets: dict[str, int] = {model: n for model, n in rows}
        counts: dict[int, Counter[str]] = {}
        for days in (30, 90):
            rows = await self.session.execute(
                select(Asset.model, func.count(Ticket.id))
                .join(Ticket, Ticket.asset_id == Asset.id)
                .where(Ticket.created_at >= now - timedelta(days=days))
                .group_by(Asset.model)
            )
            counts[days] = Counter({model: n for model, n in rows})
        models = [
            ModelRow(
                model,
                assets[model],
                counts[30][model],
                counts[90][model],
                round(counts[30][model] / assets[model], 3),
                round(counts[90][model] / assets[model], 3),
            )
            for model in counts[90]
            if assets.get(model)
        ]
        return sorted(models, key=lambda m: (-m.rate_90, -m.tickets_90, m.model))[:TOP]

    async def _costs(self, today: date) -> list[dict[str, Any]]:
        keys = month_keys(today)
        first = datetime.combine(date.fromisoformat(f"{keys[0]}-01"), time(), self.zone)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        sources = (
            select(RepairReport.created_at, RepairReport.cost).where(
                RepairReport.created_at >= first
            ),
            select(VendorRepair.back_at, VendorRepair.cost).where(
                VendorRepair.back_at >= first, VendorRepair.cost.is_not(None)
            ),
        )
        for query in sources:
            for moment, cost in await self.session.execute(query):
                if moment is not None and cost is not None:
                    totals[moment.astimezone(self.zone).strftime("%Y-%m")] += cost
        return [{"month": key, "amount": float(totals[key])} for key in keys]

    async def _spares(self, now: datetime) -> dict[str, Any]:
        pool = await SpareService(TicketService(self.session, self.clock)).pool()
        return {
            "pool": [{"code": a.code, "type": a.type, "model": a.model} for a in pool.spares],
            "loans": [
                {
                    "code": loan.spare.code,
                    "department": loan.department.name,
                    "ticket": loan.ticket_id,
                    "days": round((now - loan.lent_at).total_seconds() / 86400, 1),
                }
                for loan in pool.loans
            ],
        }

    async def _risk(self) -> dict[str, Any]:
        """Every open ticket's on-time probability, worst first, coloured as supervisors read
        it: red under 50 %, yellow under 80 %, grey otherwise."""
        risk = RiskService(self.session, self.clock, self.policy)
        report = await risk.assess(times=await self.times.get(risk))
        tickets = (
            await self.session.scalars(select(Ticket).where(Ticket.id.in_(report.tickets)))
        ).all()
        rows = []
        for ticket in tickets:
            found = report.tickets[ticket.id]
            rows.append(
                {
                    "number": ticket.number,
                    "department": ticket.department.name,
                    "urgency": ticket.urgency.value,
                    "engineer": ticket.assignee.name if ticket.assignee else "-",
                    "otp": round(found.otp, 3),
                    "eta_p50": found.eta_p50.isoformat(),
                    "eta_p90": found.eta_p90.isoformat(),
                    "colour": colour(found.otp),
                }
            )
        rows.sort(key=lambda row: (row["otp"], row["number"]))
        return {"delay_possibility": round(report.delay_possibility, 3), "tickets": rows}


def colour(otp: float) -> str:
    return "red" if otp < 0.5 else "yellow" if otp < 0.8 else "grey"
