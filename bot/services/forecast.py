"""What the reporter is told about when: "expected by HH:MM–HH:MM" from the Monte Carlo
simulation of every queue, in the hospital's local time."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.services.risk import RiskService, TimesCache
from bot.sla.policy import SlaPolicy

REPLICATIONS = 500
"""Enough for a 50th-90th percentile window to the minute; the dashboard uses more."""


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

    async def window(self, ticket_id: int) -> tuple[str, str] | None:
        """(p50, p90) as local `HH:MM` (with the date when not today), None if not simulated."""
        return (await self.windows()).get(ticket_id)

    async def windows(self) -> dict[int, tuple[str, str]]:
        """The window of every simulated ticket, from one simulation."""
        report = await self.risk.assess(
            replications=REPLICATIONS, times=await self.times.get(self.risk)
        )
        return {
            number: (self._local(risk.eta_p50), self._local(risk.eta_p90))
            for number, risk in report.tickets.items()
        }

    def _local(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        today = self.risk.clock.now().astimezone(self.zone).date()
        return local.strftime("%H:%M" if local.date() == today else "%m-%d %H:%M")
