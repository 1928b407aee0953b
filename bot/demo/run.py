"""`repairbot demo`: the real bot, unchanged, against the built-in Bot API emulator, with a
sample hospital and a web page where one person plays the nurse, the engineer and the
supervisor. Nothing leaves the machine and no token is needed."""

import asyncio
import contextlib
import logging
import signal
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from pydantic import SecretStr

from bot.app import App, running_app
from bot.clock import SystemClock
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.demo.history import write_history
from bot.demo.hospital import PEOPLE, holds_sample, load_hospital
from bot.demo.server import DemoSite, build_demo_app
from bot.emulator.telegram import BOT_USER, FakeTelegram
from bot.migrate import upgrade_async

log = logging.getLogger(__name__)
DEMO_TOKEN = f"{BOT_USER['id']}:DEMO-token"
"""aiogram takes the bot's id from the token, so it must be the emulator's bot."""


@dataclass
class Demo:
    url: str
    telegram: FakeTelegram
    app: App


def demo_settings(settings: Settings, telegram_url: str, folder: Path) -> Settings:
    """The operator's settings, pointed at the emulator, with a fresh SQLite file in `folder`
    unless DATABASE_URL was given."""
    database_url = settings.database_url
    if "database_url" not in settings.model_fields_set:
        database_url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
    return settings.model_copy(
        update={
            "bot_token": SecretStr(DEMO_TOKEN),
            "telegram_api_url": telegram_url,
            "bot_username": BOT_USER["username"],
            "database_url": database_url,
            "web_host": "127.0.0.1",
            "web_port": 0,
            "public_url": None,  # the bot's own address, to which the page passes /dashboard on
            "webhook_url": None,
            "redis_url": None,
            "inspections_per_day": 0,  # a fresh hospital would get a day's inspections at once
        }
    )


async def seed(settings: Settings) -> None:
    """Migrate, then load the sample hospital and its month of history, once per database."""
    await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            if await holds_sample(session):
                log.info("demo: the database already holds the sample hospital")
                return
            clock = SystemClock()
            await load_hospital(session, clock, settings.default_language)
            tickets = await write_history(session, clock, settings.tz)
            await session.commit()
            log.info("demo: sample hospital loaded with %d past tickets", tickets)
    finally:
        await engine.dispose()


def _bind(port: int) -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.asynccontextmanager
async def running_demo(settings: Settings, port: int) -> AsyncIterator[Demo]:
    """Emulator, seeded database, the bot long polling, and the page on 127.0.0.1:`port`
    (0: any free port); all stopped after."""
    sock, url = _bind(port)
    with sock, tempfile.TemporaryDirectory(prefix="repairbot-demo-") as folder:
        async with FakeTelegram() as telegram:
            settings = demo_settings(settings, telegram.base_url, Path(folder))
            await seed(settings)
            async with running_app(settings) as app:
                polling = asyncio.create_task(app.run_polling(handle_signals=False))
                await telegram.wait_for_call("getUpdates", timeout=30)
                # handler_cancellation: a long poll whose page went away stops waiting.
                runner = web.AppRunner(
                    build_demo_app(DemoSite(telegram, app, PEOPLE)),
                    access_log=None,
                    handler_cancellation=True,
                    shutdown_timeout=1.0,
                )
                await runner.setup()
                await web.SockSite(runner, sock).start()
                try:
                    yield Demo(url, telegram, app)
                finally:
                    await runner.cleanup()
                    if not polling.done():
                        app.stop_polling()
                    await polling  # the app's exit lets the updates in hand finish


async def serve_demo(settings: Settings, port: int) -> None:
    """Run the demo until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running_demo(settings, port) as demo:
        print(f"repairbot demo: open {demo.url}/ (Ctrl+C stops it)", flush=True)
        print(f"demo database: {demo.app.settings.database_url}", flush=True)
        await stop.wait()
