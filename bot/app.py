"""Wiring: the bot, the dispatcher, the outbox sender and the scheduled jobs of one process."""

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import SUPPORTED_LANGUAGES, Settings
from bot.db import create_engine, create_sessionmaker
from bot.flood import FloodCounter, MemoryFloodCounter, RedisFloodCounter
from bot.handlers import include_handlers
from bot.i18n import Translator
from bot.intake.hearing import Hearing
from bot.intake.listening import Transcriber
from bot.leader import Leadership
from bot.middlewares import (
    FloodGuard,
    PerUserOrderMiddleware,
    SenderInSession,
    ServicesMiddleware,
    StaffMiddleware,
    UnitOfWorkMiddleware,
    UpdatesInHand,
)
from bot.notify.daily import queue_daily_summary
from bot.notify.outbox import DeliverySession, OutboxSender
from bot.notify.pacing import PacedRequests, Pacer
from bot.polling import Poller, stop_on_signals
from bot.services.forecast import Forecast
from bot.services.inspections import open_due_inspections
from bot.services.intake import Intake
from bot.services.risk import TimesCache
from bot.services.sla import SlaService
from bot.services.staff import SenderLookup
from bot.services.tickets import TicketService
from bot.services.updates import KEEP_DAYS, purge_handled
from bot.sla.policy import SlaPolicy, load_policy
from bot.unit_of_work import UnitOfWork
from bot.web.health import Health
from bot.web.server import Web, build_web_app
from bot.webhook import WebhookHandler

log = logging.getLogger(__name__)
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
    "language",
    "overdue",
    "engineers",
    "summary",
    "dashboard",
    "whatif",
    "grant",
    "revoke",
    "audit",
    "invite",
    "help",
)


def build_bot(
    settings: Settings, pacer: Pacer | None = None, session: type[AiohttpSession] = AiohttpSession
) -> Bot:
    """A bot whose sends wait for their turn from `pacer`, if given."""
    api = TelegramAPIServer.from_base(settings.telegram_api_url)
    bot = Bot(settings.token(), session=session(api=api))
    if pacer is not None:
        bot.session.middleware(PacedRequests(pacer))
    return bot


def build_dispatcher(
    settings: Settings,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: OutboxSender,
    cpu: Executor,
    policy: SlaPolicy,
    web_url: str,
    storage: BaseStorage | None = None,
    background: async_sessionmaker[AsyncSession] | None = None,
) -> Dispatcher:
    """`background` are the connections of the intake's batches (by default the handlers'),
    so that a burst of updates queueing for the handlers' pool does not hold a batch up."""
    transcriber = Transcriber(cpu, settings.vosk_model_path)
    times = TimesCache()

    def forecasts(session: AsyncSession) -> Forecast:
        return Forecast(session, clock, policy, settings.tz, times)

    intake = Intake(background or sessionmaker, clock, forecasts, sender.wake)
    dp = Dispatcher(
        storage=storage,
        settings=settings,
        clock=clock,
        cpu=cpu,
        policy=policy,
        web_url=web_url,
        intake=intake,
        in_hand=UpdatesInHand(),
    )
    dp["hearing"] = Hearing(
        bot,
        dp.storage,
        background or sessionmaker,
        clock,
        transcriber,
        settings.voice_max_seconds,
        sender.wake,
    )
    limit, window = settings.flood_limit, settings.flood_window
    counter: FloodCounter = (
        RedisFloodCounter(storage.redis, limit, window)
        if isinstance(storage, RedisStorage)
        else MemoryFloodCounter(limit, window)
    )
    flood = FloodGuard(counter, settings.default_language)
    # The count of updates in hand goes outermost, ahead of aiogram's own (errors, user context,
    # FSM), so that an error handler's reply is still in hand when a stop waits for it.
    builtin = list(dp.update.outer_middleware)
    for middleware in builtin:
        dp.update.outer_middleware.unregister(middleware)
    for middleware in (dp["in_hand"], *builtin, flood):
        dp.update.outer_middleware(middleware)
    dp.update.outer_middleware(PerUserOrderMiddleware())
    dp.update.outer_middleware(UnitOfWorkMiddleware(sessionmaker, clock, sender))
    dp.update.outer_middleware(
        StaffMiddleware(SenderLookup(sessionmaker), settings.default_language)
    )
    for name, observer in dp.observers.items():
        if name not in {"update", "error"}:  # error handlers only reply, in the reader's language
            observer.middleware(SenderInSession())
            observer.middleware(ServicesMiddleware(clock, forecasts))
    include_handlers(dp)
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
    policy: SlaPolicy
    cpu: Executor
    web_url: str
    jobs_running: asyncio.Lock = field(default_factory=asyncio.Lock)
    leadership: Leadership = field(init=False)
    poller: Poller = field(init=False)

    def __post_init__(self) -> None:
        retry = self.settings.leader_retry
        self.leadership = Leadership(self.engine, retry)
        self.poller = Poller(self.dispatcher, self.bot, self.engine, retry)

    @property
    def leading(self) -> asyncio.Event:
        """Set while this replica runs the jobs and the outbox sender."""
        return self.leadership.leading

    def schedule(self) -> AsyncIOScheduler:
        """The leader's jobs, on a fresh scheduler (one cannot be started twice)."""
        settings = self.settings
        scheduler = AsyncIOScheduler(timezone=settings.tz)
        if (at := settings.summary_time) is not None:
            scheduler.add_job(
                self.daily_summary,
                "cron",
                hour=at.hour,
                minute=at.minute,
                second=at.second,
                id="daily_summary",
                coalesce=True,
                misfire_grace_time=3600,
            )
            # Catch up at start: a summary due while the bot was down goes out now, once.
            scheduler.add_job(self.daily_summary, id="daily_summary_catch_up")

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

        every(settings.sla_scan_every, self.sla_scan)
        every(settings.auto_close_check_every, self.auto_close)
        if self.policy.inspection and settings.inspections_per_day:
            # Also once at start, so a new interval does not wait an hour.
            every(settings.inspection_check_every, self.inspections, next_run_time=_now())
        return scheduler

    async def auto_close(self) -> None:
        """Close resolved tickets the reporter left unconfirmed, and forget handled update ids
        old enough never to be redelivered; one transaction per run."""
        async with self.jobs_running, self.sessionmaker() as session:
            outcome = await TicketService(session, self.clock).auto_close(
                self.settings.auto_close_after
            )
            await purge_handled(session, self.clock.now() - timedelta(days=KEEP_DAYS))
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
            t = Translator(self.settings.default_language)
            outcome = await open_due_inspections(
                TicketService(session, self.clock),
                self.policy,
                self.settings.inspections_per_day,
                lambda interval: t("ticket.inspection_description", every=interval),
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
        """The command menu in every language (Telegram shows the one of the user's app), and
        in the default language for everyone else."""

        def menu(language: str) -> list[BotCommand]:
            t = Translator(language)
            return [BotCommand(command=c, description=t(f"commands.{c}")) for c in COMMANDS]

        await self.bot.set_my_commands(menu(self.settings.default_language))
        for language in SUPPORTED_LANGUAGES:
            await self.bot.set_my_commands(menu(language), language_code=language)

    async def finish_updates(self) -> None:
        """Let the updates being handled finish, for up to SHUTDOWN_GRACE, before the process
        lets go of its bot session and connections."""
        in_hand: UpdatesInHand = self.dispatcher["in_hand"]
        if not await in_hand.finished(self.settings.shutdown_grace.total_seconds()):
            log.warning("stopping with %d updates still being handled", in_hand.count)

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        """Long-poll while this replica is the poller, stand by while another is, until
        `stop_polling()` (or SIGTERM / SIGINT)."""
        await self.set_commands()
        await self.poller.run(handle_signals=handle_signals)

    def stop_polling(self) -> None:
        self.poller.stop()

    async def serve_webhook(self) -> None:
        """Register the webhook, then serve it (the web server is already up) until SIGTERM
        or SIGINT. The webhook stays set: other replicas go on serving it."""
        await self.register_webhook()
        stop = asyncio.Event()
        stop_on_signals(stop)
        await stop.wait()

    async def register_webhook(self) -> None:
        """Tell Telegram where to post updates (any replica may; they all serve the path)."""
        await self.set_commands()
        assert self.settings.webhook_url is not None
        await self.bot.set_webhook(
            self.settings.webhook_url,
            secret_token=self.settings.webhook_secret_value(),
            allowed_updates=self.dispatcher.resolve_used_update_types(),
        )


class Duties:
    """What only the leader runs: the scheduled jobs and the outbox sender. Restartable, since
    a replica may lose the lead and take it again."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.scheduler: AsyncIOScheduler | None = None
        self.sender_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.scheduler = self.app.schedule()
        self.app.sender.resume()
        self.sender_task = asyncio.create_task(self.app.sender.run(), name="outbox-sender")
        self.scheduler.start()

    async def stop(self) -> None:
        """No new work, then let work in hand finish: APScheduler would cancel a running job,
        and a send cut in half could go out twice."""
        if self.scheduler is not None:
            self.scheduler.pause()
            async with self.app.jobs_running:
                self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self.sender_task is not None:
            self.app.sender.stop()
            try:
                async with asyncio.timeout(self.app.settings.shutdown_grace.total_seconds()):
                    await self.sender_task
            except TimeoutError:
                self.sender_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.sender_task
            self.sender_task = None


def _listen(settings: Settings) -> tuple[socket.socket, str]:
    """Bind the web port first, so the dashboard's address is known (WEB_PORT=0 means any free
    port) before the dispatcher that hands out links is built."""
    family = socket.AF_INET6 if ":" in settings.web_host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.web_host, settings.web_port))
    port = sock.getsockname()[1]
    return sock, settings.public_url or f"http://{settings.web_host}:{port}"


@contextlib.asynccontextmanager
async def running_app(settings: Settings, clock: Clock | None = None) -> AsyncIterator[App]:
    """Serve the web side; lead (jobs and outbox) when this replica holds the lead; stop and
    close all after."""
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    # Replies and notices take turns from one pacer; the sender paces itself (it skips a busy
    # chat rather than wait for it), so its own bot has no pacing middleware.
    pacer = Pacer(settings.outbox_overall_rate, settings.outbox_per_chat_rate)
    bot = build_bot(settings, pacer)
    sender_bot = build_bot(settings, session=DeliverySession)
    # The sender and the intake's batches get connections of their own: in a burst, updates
    # queue for the handlers' pool, and batches and notices would wait for the burst to end.
    background_engine = create_engine(settings.database_url)
    background = create_sessionmaker(background_engine)
    sender = OutboxSender(sender_bot, background, clock, settings.outbox_poll_every, pacer=pacer)
    cpu = ThreadPoolExecutor(max_workers=CPU_WORKERS, thread_name_prefix="cpu")
    policy = load_policy(settings.sla_policy)
    sock, web_url = _listen(settings)
    storage = RedisStorage.from_url(settings.redis_url) if settings.redis_url else None
    dispatcher = build_dispatcher(
        settings, bot, sessionmaker, clock, sender, cpu, policy, web_url, storage, background
    )
    app = App(settings, engine, sessionmaker, clock, bot, dispatcher, sender, policy, cpu, web_url)
    health = Health(sessionmaker, app.leading, app.poller.polling)
    webapp = build_web_app(Web(settings, sessionmaker, clock, policy), health)
    if settings.webhook_url:
        secret = settings.webhook_secret_value()
        webhook = WebhookHandler(dispatcher, bot, secret_token=secret, health=health)
        webhook.register(webapp, path=settings.webhook_path)
    # No access log: dashboard URLs carry their signed token.
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    duties = Duties(app)
    leading = asyncio.create_task(app.leadership.run(duties.start, duties.stop), name="leadership")
    hearing: Hearing = dispatcher["hearing"]
    sweeping = await hearing.start()
    try:
        yield app
    finally:
        health.stop_serving()  # webhook posts get 503, on kept-alive connections too
        grace_ends = asyncio.get_running_loop().time() + settings.shutdown_grace.total_seconds()
        await app.finish_updates()  # while the sender and the bot session still run
        await _cancel(sweeping)
        # The voice notes in hand, in what is left of the grace, while this replica may lead.
        await hearing.stop(max(0.0, grace_ends - asyncio.get_running_loop().time()))
        app.leadership.end()
        await leading
        await runner.cleanup()
        await dispatcher["intake"].close()
        if storage is not None:
            await storage.close()
        cpu.shutdown(wait=True, cancel_futures=True)
        await bot.session.close()
        await sender_bot.session.close()
        await background_engine.dispose()
        await engine.dispose()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _now() -> datetime:
    return datetime.now(UTC)
