"""Shared fixtures: a migrated database per backend, a fake clock, a sample hospital.

Every test that needs a database runs on SQLite, and again on PostgreSQL when
TEST_DATABASE_URL names a server (a throwaway database is created there and dropped after).
"""

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App, running_app
from bot.config import Settings, load_settings
from bot.db import create_engine, create_sessionmaker, throwaway_database
from bot.migrate import upgrade
from bot.models import Base
from bot.services.importer import Importer, ImportKind
from tests.fake_telegram import FakeTelegram

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated to head once per backend and test run."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "repairbot.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    with throwaway_database(os.environ["TEST_DATABASE_URL"], "repairbot_test") as url:
        upgrade(url)
        yield url


async def _wipe(engine: AsyncEngine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(table.delete())


def skip_on_sqlite(database_url: str, why: str) -> None:
    """Skip a test of several processes sharing one database: `why` it needs PostgreSQL."""
    if not database_url.startswith("postgresql"):
        pytest.skip(f"{why}; SQLite serves one process")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty (but migrated) database."""
    engine = create_engine(database_url)
    await _wipe(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


DEPARTMENTS_CSV = """name,zone,priority
응급실,A,1
내과 병동,A,0
외과 병동,B,0
원무과,C,0
중환자실,B,1
"""

# Engineers 9001 (zone A) and 9002 (zone B); supervisor 9100; one pre-registered nurse.
STAFF_CSV = """telegram_id,name,role,department,zones,language
9001,김엔지,engineer,,A,ko
9002,Lee Eng,engineer,,B,en
9100,박관리,supervisor,,,ko
5001,최간호,reporter,내과 병동,,ko
"""

ASSETS_CSV = """code,type,model,department,location,purchased_on,status
PC-0001,pc,Dell OptiPlex 7090,내과 병동,간호사실,2022-03-01,in_service
PR-0001,printer,HP LaserJet M404,응급실,접수창구,2021-07-15,in_service
"""


async def seed_hospital(session: AsyncSession, clock: FakeClock) -> None:
    importer = Importer(session, clock, "ko")
    for kind, csv in (
        (ImportKind.DEPARTMENTS, DEPARTMENTS_CSV),
        (ImportKind.STAFF, STAFF_CSV),
        (ImportKind.ASSETS, ASSETS_CSV),
    ):
        await importer.import_bytes(kind, csv.encode())
    await session.commit()


@pytest.fixture
async def hospital(session: AsyncSession, clock: FakeClock) -> AsyncSession:
    await seed_hospital(session, clock)
    return session


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def bot_settings(database_url: str, tg: FakeTelegram, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "_env_file": None,
        "bot_token": "1000:TEST-token",  # aiogram derives bot.id from the token: match getMe
        "database_url": database_url,
        "telegram_api_url": tg.base_url,
        "outbox_poll_every": timedelta(milliseconds=100),
        "summary_time": None,  # tests that want the daily summary set its time
        "inspections_per_day": 0,  # tests that want inspection tickets turn them on
        "web_port": 0,  # any free port: many apps run in one test session
        # Telegram's 1 message/s per chat is the sender's default (tests/test_outbox_pacing.py
        # checks it); conversations here would otherwise spend most of their time waiting.
        "outbox_per_chat_rate": 50.0,
        **overrides,
    }
    return load_settings(**values)


@contextlib.asynccontextmanager
async def polling_replica(settings: Settings) -> AsyncIterator[App]:
    """The real app in polling mode (the poller, or a standby while another replica polls),
    stopped cleanly afterwards."""
    async with running_app(settings) as app:
        task = asyncio.create_task(app.run_polling(handle_signals=False))
        try:
            yield app
        finally:
            app.stop_polling()
            await task  # the app's exit lets the updates in hand finish


@contextlib.asynccontextmanager
async def polling_bot(settings: Settings, tg: FakeTelegram) -> AsyncIterator[App]:
    """The real app, long polling the fake server, stopped cleanly afterwards."""
    calls_before = len(tg.calls_to("getUpdates"))
    async with polling_replica(settings) as app:
        await tg.wait_for_call("getUpdates", count=calls_before + 1)
        yield app


@pytest.fixture
async def desk(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> AsyncIterator[App]:
    """The bot serving the sample hospital over the fake Bot API."""
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    async with polling_bot(bot_settings(database_url, tg), tg) as app:
        yield app


async def register(tg: FakeTelegram, user_id: int, department: str, name: str = "간호사") -> None:
    nurse = tg.user(user_id, name)
    await nurse.send_command("start")
    await nurse.expect("병원 IT 수리 접수")
    await nurse.press(department, await nurse.expect("소속 부서를 선택해 주세요 (1/1 쪽)"))
    await nurse.expect_answer()
    await nurse.expect(f"소속 부서: {department}")


def repairbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in `tmp_path`, with a database there and no token unless given."""
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    clean["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    clean.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
