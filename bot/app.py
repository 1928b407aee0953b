"""Wiring: the bot, the dispatcher, the outbox sender and the scheduled jobs of one process."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.handlers import get_routers
from bot.i18n import Translator
from bot.intake.listening import Transcriber
from bot.middlewares import PerUserOrderMiddleware, StaffMiddleware, UnitOfWorkMiddleware
from bot.notify.daily import queue_daily_summary
from bot.notify.outbox import OutboxSender
from bot.services.forecast import Forecast
from bot.services.inspections import open_due_inspections
from bot.services.risk import TimesCache
from bot.services.sla import SlaService
from bot.services.tickets import TicketService
from bot.sla.policy import SlaPolicy, load_policy
from bot.unit_of_work import UnitOfWork
from bot.web.server import Web, build_web_app

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 10.0
CPU_WORKERS = 2
"""Threads for image decoding (and speech): the machine's cores, so the event loop stays free."""
COMMANDS = (
    "start",
    "my",
    "queue",
    "duty",
    "spares",
    "asset",
    "kb",
    "department",
    "overdue",
    "engineers",
    "summary",
    "dashboard",
    "whatif",
    "help",
)


def build_bot(settings: Settings) -> Bot:
    api = TelegramAPIServer.from_base(settings.telegram_api_url)
    return Bot(settings.token(), session=AiohttpSession(api=api))


def build_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: OutboxSender,
    cpu: Executor,
    policy: SlaPolicy,
    web_url: str,
) -> Dispatcher:
    transcriber = Transcriber(cpu, settings.vosk_model_path)
    dp = Dispatcher(
        settings=settings,
        clock=clock,
        cpu=cpu,
        transcriber=transcriber,
        policy=policy,
        web_url=web_url,
    )
    dp.update.outer_middleware(PerUserOrderMiddleware())
    times = TimesCache()

    def forecasts(session: AsyncSession) -> Forecast:
        return Forecast(session, clock, policy, settings.tz, times)

    dp.update.outer_middleware(UnitOfWorkMiddleware(sessionmaker, clock, sender, forecasts))
    dp.update.outer_middleware(StaffMiddleware(settings.default_language))
    dp.include_routers(*get_routers())
    return dp


@dataclass
class App:
    """Everything one running bot process holds."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    bot: Bot
    dispatcher: Dispatcher
    sender: OutboxSender
    scheduler: AsyncIOScheduler
    policy: SlaPolicy
    cpu: Executor
    web_url: str
    jobs_running: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def auto_close(self) -> None:
        """Close resolved tickets the reporter left unconfirmed; one transaction per run."""
        async with self.jobs_running, self.sessionmaker() as session:
            outcome = await TicketService(session, self.clock).auto_close(
                self.settings.auto_close_after
            )
            await UnitOfWork(session, self.clock).commit(outcome.notices)
        if outcome.notices:
            self.sender.wake()

    async def sla_scan(self) -> None:
        """Reminders and escalations for stages over their limit; once each, across restarts."""
        async with self.jobs_running, self.sessionmaker() as session:
            try:
                notices = await SlaService(session, self.clock, self.policy).scan()
                await UnitOfWork(session, self.clock).commit(notices)
            except IntegrityError:
                await session.rollback()  # another process sent these; the next scan moves on
                return
        if notices:
            self.sender.wake()

    async def inspections(self) -> None:
        """Open inspection tickets for devices whose interval has passed."""
        async with self.jobs_running, self.sessionmaker() as session:
            outcome = await open_due_inspections(
                TicketService(session, self.clock),
                self.policy,
                self.settings.inspections_per_day,
            )
            await UnitOfWork(session, self.clock).commit(outcome.notices)
        if outcome.notices:
            self.sender.wake()

    async def daily_summary(self) -> None:
        """Queue today's summary if its time has come and it was not queued yet."""
        async with self.jobs_running, self.sessionmaker() as session:
            try:
                queued = await queue_daily_summary(
                    session,
                    self.clock,
                    self.policy,
                    self.settings.tz,
                    self.settings.summary_time,
                    self.cpu,
                )
                await session.commit()
            except IntegrityError:
                await session.rollback()  # another process queued it first
                return
        if queued:
            self.sender.wake()

    async def set_commands(self) -> None:
        t = Translator(self.settings.default_language)
        commands = [BotCommand(command=c, description=t(f"commands.{c}")) for c in COMMANDS]
        await self.bot.set_my_commands(commands)

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        await self.set_commands()
        await self.dispatcher.start_polling(
            self.bot, handle_signals=handle_signals, close_bot_session=False
        )


@contextlib.asynccontextmanager
async def running_app(settings: Settings, clock: Clock | None = None) -> AsyncIterator[App]:
    """Start the outbox sender and scheduler around the caller; stop and close all after."""
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    bot = build_bot(settings)
    sender = OutboxSender(bot, sessionmaker, clock, settings.outbox_poll_every)
    cpu = ThreadPoolExecutor(max_workers=CPU_WORKERS, thread_name_prefix="cpu")
    policy = load_policy(settings.sla_policy)
    # No access log: dashboard URLs carry their signed token.
    site = web.AppRunner(build_web_app(Web(settings, sessionmaker, clock, policy)), access_log=None)
    await site.setup()
    await web.TCPSite(site, settings.web_host, settings.web_port).start()
    port = site.addresses[0][1]  # the one bound, when WEB_PORT=0 asked for any
    web_url = settings.public_url or f"http://{settings.web_host}:{port}"
    dispatcher = build_dispatcher(settings, sessionmaker, clock, sender, cpu, policy, web_url)
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    app = App(
        settings,
        engine,
        sessionmaker,
        clock,
        bot,
        dispatcher,
        sender,
        scheduler,
        policy,
        cpu,
        web_url,
    )
    if (at := settings.summary_time) is not None:
        scheduler.add_job(
            app.daily_summary,
            "cron",
            hour=at.hour,
            minute=at.minute,
            second=at.second,
            id="daily_summary",
            coalesce=True,
            misfire_grace_time=3600,
        )
        # Catch up at start: a summary due while the bot was down goes out now, still once.
        scheduler.add_job(app.daily_summary, id="daily_summary_catch_up")

    def every(period: timedelta, job: Callable[[], Awaitable[None]], **extra: Any) -> None:
        scheduler.add_job(
            job,
            "interval",
            seconds=period.total_seconds(),
            id=job.__name__,
            max_instances=1,
            coalesce=True,
            **extra,
        )

    every(settings.sla_scan_every, app.sla_scan)
    every(settings.auto_close_check_every, app.auto_close)
    if policy.inspection and settings.inspections_per_day:
        # Also once at start, so a new interval does not wait an hour.
        every(settings.inspection_check_every, app.inspections, next_run_time=datetime.now(UTC))
    sender_task = asyncio.create_task(sender.run(), name="outbox-sender")
    scheduler.start()
    try:
        yield app
    finally:
        # No new work, then let work in hand finish: APScheduler would cancel a running job.
        scheduler.pause()
        async with app.jobs_running:
            scheduler.shutdown(wait=False)
        sender.stop()
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE):
                await sender_task
        except TimeoutError:
            sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender_task
        await site.cleanup()
        cpu.shutdown(wait=True, cancel_futures=True)
        await bot.session.close()
        await engine.dispose()
