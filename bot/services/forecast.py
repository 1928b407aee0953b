"""What the reporter is told about when: "expected by HH:MM–HH:MM" from the Monte Carlo
simulation of every queue, in the hospital's local time."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.services.risk import RiskService, TimesCache
from bot.sla.policy import SlaPolicy

REPLICATIONS = 500
"""Enough for a 50th-90th percentile window to the minute; the dashboard uses more."""


@dataclass(frozen=True)
class Window:
    """When a ticket is likely done (50th and 90th percentile), to be shown in local time
    (`zone`) and in the reader's language; `today` is the local day it was forecast on."""

    start: datetime
    end: datetime
    zone: ZoneInfo
    today: date


class Forecast:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        policy: SlaPolicy,
        zone: ZoneInfo,
        times: TimesCache,
    ) -> None:
        self.risk = RiskService(session, clock, policy)
        self.zone = zone
        self.times = times

    async def windows(self) -> dict[int, Window]:
        """The window of every simulated ticket, from one simulation."""
        report = await self.risk.assess(
            replications=REPLICATIONS, times=await self.times.get(self.risk)
        )
        today = self.risk.clock.now().astimezone(self.zone).date()
        return {
            number: Window(risk.eta_p50, risk.eta_p90, self.zone, today)
            for number, risk in report.tickets.items()
        }
