"""The daily summary for supervisors: rendered per language, queued in the outbox once a day."""

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime, time
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.charts import opened_closed_chart
from bot.clock import Clock
from bot.domain.enums import Role
from bot.i18n import Translator
from bot.models import Staff, SummaryRun
from bot.notify.outbox import Outbox
from bot.services.sla import SlaService
from bot.services.summary import DaySummary, day_summary
from bot.sla.policy import SlaPolicy


def _minutes(t: Translator, value: float | None) -> str:
    return t("summary.none") if value is None else t("summary.minutes", value=round(value))


def summary_text(t: Translator, day: DaySummary, overdue: int) -> str:
    def listing(items: list[tuple[str, int]]) -> str:
        return ", ".join(f"{name} {count}" for name, count in items) or t("summary.none")

    lines = [
        t("summary.header", day=day.day),
        t(
            "summary.counts",
            received=day.received,
            reopened=day.reopened,
            closed=day.closed,
            still_open=day.still_open,
            overdue=overdue,
            self_solved=day.self_solved,
        ),
        t("summary.engineers"),
        *(
            t(
                "summary.engineer_line",
                name=e.name,
                queue=e.queue,
                accept=_minutes(t, e.accept_minutes),
                resolve=_minutes(t, e.resolve_minutes),
                resolved=e.resolved,
                helped=e.helped,
                work=e.work_minutes,
            )
            for e in day.engineers
        ),
        t("summary.departments", items=listing(day.departments)),
        t("summary.models", items=listing(day.models)),
    ]
    return "\n".join(lines)


def chart_of(t: Translator, summary: DaySummary) -> Callable[[], bytes]:
    """The chart for one language, as a call for the worker pool."""
    return partial(
        opened_closed_chart,
        [t.day(day, short=True) for day in summary.chart_days],
        summary.chart_opened,
        summary.chart_closed,
        t("summary.chart_title"),
        (t("summary.opened"), t("summary.closed")),
    )


async def queue_daily_summary(
    session: AsyncSession,
    clock: Clock,
    policy: SlaPolicy,
    zone: ZoneInfo,
    at: time | None,
    cpu: Executor,
) -> bool:
    """Queue today's summary (text, then chart) for every supervisor, unless it already was or
    its time has not come. The day's row makes a second process or a restart skip it."""
    now = clock.now().astimezone(zone)
    day = now.date()
    if at is None or now < datetime.combine(day, at, zone):
        return False
    if await session.get(SummaryRun, day) is not None:
        return False
    session.add(SummaryRun(day=day, queued_at=clock.now()))
    await session.flush()
    summary = await day_summary(session, day, zone)
    overdue = len(await SlaService(session, clock, policy).overdue())
    supervisors = (await session.scalars(select(Staff).where(Staff.role == Role.SUPERVISOR))).all()
    outbox = Outbox(session, clock)
    charts: dict[str, bytes] = {}
    loop = asyncio.get_running_loop()
    for supervisor in supervisors:
        t = Translator(supervisor.language)
        if t.language not in charts:
            charts[t.language] = await loop.run_in_executor(cpu, chart_of(t, summary))
        outbox.add_message(supervisor.telegram_id, summary_text(t, summary, overdue))
        outbox.add_message(
            supervisor.telegram_id, t("summary.chart_title"), photo=charts[t.language]
        )
    await outbox.write()
    return True
