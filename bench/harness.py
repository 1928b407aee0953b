"""What the end-to-end benches share: a database, a seeded hospital, the real app long-polling
the fake Bot API of tests/fake_telegram.py, and reading what the fake received.

Not a bench itself; the other benches import it (bench/render.py only for its table and the
repository on the import path).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bot import heap  # noqa: E402
from bot.app import App  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.db import create_engine, create_sessionmaker, throwaway_database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.services.importer import Importer, ImportKind  # noqa: E402
from tests.conftest import bot_settings, polling_bot, seed_hospital  # noqa: E402
from tests.fake_telegram import ApiCall, FakeTelegram  # noqa: E402

WARDS = ["내과 병동", "외과 병동", "응급실", "원무과", "중환자실"]
"""The departments of tests.conftest.seed_hospital (zones A, B, A, C, B)."""
ENGINEERS = [9001, 9002]
"""The seed's engineers (zones A and B); `seed` adds more from 9010 on, over zones A, B, C."""
ACK = "접수되었습니다: #"
NEW_JOB = re.compile(r"(?:새 작업|New job) #(\d+)")
ACKED = re.compile(ACK + r"(\d+)")


@contextlib.contextmanager
def database(server_url: str | None, prefix: str) -> Iterator[str]:
    """A migrated, empty database: a temporary SQLite file, or a throwaway database created on
    the PostgreSQL server `server_url` names and dropped afterwards. Enter it outside the event
    loop (creating and dropping runs its own)."""
    if server_url is None:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    with throwaway_database(server_url, prefix) as url:
        upgrade(url)
        yield url


def run_on_database(
    parser: argparse.ArgumentParser, bench: Callable[[str, argparse.Namespace], Awaitable[None]]
) -> None:
    """Add `--database-url` to the bench's options, parse them, and run it on a fresh database."""
    parser.add_argument(
        "--database-url", help="a PostgreSQL server (a throwaway database is made on it)"
    )
    args = parser.parse_args()
    with database(args.database_url, "repairbot_bench") as url:
        asyncio.run(bench(url, args))


def backend(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


async def seed(url: str, reporters: list[int], engineers: int = 0) -> list[int]:
    """The sample hospital, `reporters` spread over its wards and `engineers` more engineers
    over zones A, B and C; returns every engineer's id."""
    extra = [9010 + n for n in range(engineers)]
    rows = [f"{r},간호사{r},reporter,{WARDS[n % len(WARDS)]},,ko" for n, r in enumerate(reporters)]
    rows += [f"{e},엔지니어{e},engineer,,{'ABC'[n % 3]},ko" for n, e in enumerate(extra)]
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            clock = SystemClock()
            await seed_hospital(session, clock)  # type: ignore[arg-type]
            csv = "telegram_id,name,role,department,zones,language\n" + "\n".join(rows)
            await Importer(session, clock, "ko").import_bytes(ImportKind.STAFF, csv.encode())
            await session.commit()
    finally:
        await engine.dispose()
    return ENGINEERS + extra


@contextlib.asynccontextmanager
async def running(url: str, tg: FakeTelegram, *, paced: bool = True) -> AsyncIterator[App]:
    """The real app (tests.conftest.polling_bot) on `url`, its heap settled as `repairbot run`
    settles it; `paced=False` lifts the outbox sender's own rate limits, to measure the code
    rather than Telegram's limits."""
    rate = 30.0 if paced else 1e9
    settings = bot_settings(url, tg, outbox_overall_rate=rate, outbox_per_chat_rate=rate / 30)
    async with polling_bot(settings, tg) as app:
        with heap.settled():
            yield app


async def on_duty(tg: FakeTelegram, engineers: list[int]) -> None:
    for engineer in engineers:
        user = tg.user(engineer)
        await user.send_command("duty")
        await user.expect(
            timeout=30, predicate=lambda m: "근무를 시작" in m.text or "on duty" in m.text
        )


class Sent:
    """The fake's successful sendMessage calls since the mark, read incrementally."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.seen = len(tg.calls)
        self.calls: list[ApiCall] = []

    def new(self) -> list[ApiCall]:
        """The calls that came in since the last look."""
        fresh = self.tg.calls[self.seen :]
        self.seen += len(fresh)
        fresh = [c for c in fresh if c.method == "sendMessage" and not c.failed]
        self.calls += fresh
        return fresh

    def update(self) -> list[ApiCall]:
        self.new()
        return self.calls

    def matching(self, chats: set[int], test: Callable[[str], bool]) -> list[ApiCall]:
        return [c for c in self.update() if c.params["chat_id"] in chats and test(text(c))]


def text(call: ApiCall) -> str:
    return str(call.params.get("text") or call.params.get("caption") or "")


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set of this process, from /proc/self/status."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak_rss() -> bool:
    """Start VmHWM afresh (Linux: write 5 to clear_refs); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def spread(values: list[float]) -> str:
    """min / p50 / p95 / max of latencies in seconds."""
    if not values:
        return "none"
    quantiles = [min(values), pct(values, 50), pct(values, 95), max(values)]
    return " / ".join(f"{q:.2f}" for q in quantiles) + f" s  (n={len(values)})"


def table(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    print("=" * (width + 60))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("=" * (width + 60))
