"""The `repairbot` command as an operator runs it: exit codes and one-line errors."""

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import DEPARTMENTS_CSV, repairbot, skip_on_sqlite
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]


async def start_run(tmp_path: Path, **env: str) -> asyncio.subprocess.Process:
    """`python -m bot run` in `tmp_path` with `env` over ours, less any token or database."""
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=clean | {"PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_cleanly(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, then its exit: clean, with no traceback; returns what it wrote to stderr."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr, stderr.decode()[-3000:]
    return stderr.decode()


async def test_run_without_token_starts_the_demo_until_sigterm(tmp_path: Path) -> None:
    """Someone trying the bot out has no token: `run` serves the demo page instead."""
    process = await start_run(tmp_path, WEB_PORT="0", SUMMARY_TIME="off")
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line.startswith("repairbot demo: open http://127.0.0.1:"), line
        url = line.split()[3].rstrip("/")
        async with aiohttp.ClientSession() as http, http.get(f"{url}/demo/api/state") as r:
            assert r.status == 200 and "7001" in (await r.json())["chats"]
    finally:
        stderr = await stop_cleanly(process)
    assert "BOT_TOKEN is not set: starting the demo instead" in stderr
    assert not (tmp_path / "repairbot.db").exists()  # the demo keeps its own database


def test_malformed_setting_is_named(tmp_path: Path) -> None:
    done = repairbot(tmp_path, "migrate", DATABASE_URL="mysql://root@localhost/x")
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "error: DATABASE_URL is invalid: only sqlite and postgresql URLs are supported"
    )
    done = repairbot(tmp_path, "run", BOT_TOKEN="nonsense")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: BOT_TOKEN is invalid: must look like")


def test_migrate_and_import(tmp_path: Path) -> None:
    assert repairbot(tmp_path, "migrate").returncode == 0
    tables = {
        r[0]
        for r in sqlite3.connect(tmp_path / "cli.db").execute(
            "select name from sqlite_master where type='table'"
        )
    }
    assert {"tickets", "ticket_events", "staff", "departments", "assets", "outbox"} <= tables
    csv = tmp_path / "departments.csv"
    csv.write_text(DEPARTMENTS_CSV, encoding="utf-8")
    done = repairbot(tmp_path, "import", "departments", str(csv))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported departments: 5 rows (5 new, 0 updated)"
    done = repairbot(tmp_path, "import", "departments", str(csv))
    assert done.stdout.strip() == "imported departments: 5 rows (0 new, 5 updated)"


def test_bad_import_aborts_with_line_number(tmp_path: Path) -> None:
    bad = tmp_path / "staff.csv"
    bad.write_text("telegram_id,name,role,department,zones,language\n1,A,engineer,,,ko\n")
    done = repairbot(tmp_path, "import", "staff", str(bad))
    assert done.returncode == 1
    assert (
        f"error: {bad}: line 2: an engineer needs at least one zone (nothing was imported)"
        in done.stderr
    )
    missing = repairbot(tmp_path, "import", "assets", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1
    assert "no such file" in missing.stderr


async def test_run_serves_telegram_until_sigterm(tmp_path: Path, tg: FakeTelegram) -> None:
    """`repairbot run` as an operator starts it: migrates, polls, answers, stops cleanly."""
    process = await start_run(
        tmp_path,
        BOT_TOKEN="1000:TEST-token",
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
        TELEGRAM_API_URL=tg.base_url,
    )
    try:
        await tg.wait_for_call("getUpdates", timeout=60)
        commands = tg.calls_to("setMyCommands")[0].params["commands"]
        assert {c["command"] for c in commands} >= {"start", "my", "queue", "duty"}
        nurse = tg.user(31337, "새간호사")
        await nurse.send_command("start")
        await nurse.expect("새간호사님, 병원 IT 수리 접수 봇입니다", timeout=10)
        await nurse.expect("아직 등록된 부서가 없습니다")
    finally:
        await stop_cleanly(process)


async def test_an_update_in_hand_at_sigterm_is_finished_before_the_exit(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    """Telegram counts an update delivered once the next poll asks for later ones, so one still
    being handled at SIGTERM must be finished, not dropped: here a stranger's /start is held up
    by a write lock on the database when the stop comes, and is answered and stored after it."""
    database = tmp_path / "run.db"
    process = await start_run(
        tmp_path,
        BOT_TOKEN="1000:TEST-token",
        DATABASE_URL=f"sqlite:///{database}",
        TELEGRAM_API_URL=tg.base_url,
        SUMMARY_TIME="off",  # no scheduled job writes while the lock is held
        INSPECTIONS_PER_DAY="0",
        SLA_SCAN_EVERY="1h",
        AUTO_CLOSE_CHECK_EVERY="1h",
    )
    try:
        await tg.wait_for_call("getUpdates", timeout=60)
        with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as lock:
            lock.execute("BEGIN IMMEDIATE")  # every write of the bot now waits for this one
            polls = len(tg.calls_to("getUpdates"))
            nurse = tg.user(31337, "새간호사")
            await nurse.send_command("start")
            await tg.wait_for_call("getUpdates", count=polls + 1, timeout=10)  # fetched, confirmed
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(1.0)
            assert process.returncode is None  # still finishing the /start
        # Closed, the lock is rolled back and the bot's write goes on.
        await nurse.expect("새간호사님, 병원 IT 수리 접수 봇입니다", timeout=20)
    finally:
        await stop_cleanly(process)
    registered = sqlite3.connect(database).execute(
        "select name from staff where telegram_id = 31337"
    )
    assert registered.fetchall() == [("새간호사",)]


@pytest.mark.usefixtures("engine")  # an empty database
async def test_a_second_run_stands_by_and_polls_once_the_first_is_killed(
    tmp_path: Path, tg: FakeTelegram, database_url: str
) -> None:
    """Two `repairbot run` without a webhook on one PostgreSQL: the second waits instead of
    polling (two pollers would take each other's updates), and takes over when the first
    process is killed outright."""
    skip_on_sqlite(database_url, "the poller holds a PostgreSQL advisory lock")
    env = {
        "BOT_TOKEN": "1000:TEST-token",
        "DATABASE_URL": database_url,
        "TELEGRAM_API_URL": tg.base_url,
        "LEADER_RETRY": "1s",
        "WEB_PORT": "0",
    }
    first = await start_run(tmp_path, **env)
    try:
        await tg.wait_for_call("getUpdates", timeout=60)
        menus = len(tg.calls_to("setMyCommands"))
        second = await start_run(tmp_path, **env)
        try:
            await tg.wait_for_call("setMyCommands", count=2 * menus, timeout=60)  # second is up
            await asyncio.sleep(3.0)  # three of its tries at the poller's lock
            assert not [call for call in tg.calls_to("getUpdates") if call.failed]  # no 409
            first.kill()
            await first.wait()
            nurse = tg.user(31337, "새간호사")
            await nurse.send_command("start")
            await nurse.expect("새간호사님, 병원 IT 수리 접수 봇입니다", timeout=30)
        finally:
            await stop_cleanly(second)
    finally:
        if first.returncode is None:
            first.kill()
        await first.communicate()
