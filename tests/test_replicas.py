"""Production shape: webhook replicas sharing PostgreSQL and Redis, one leader, redelivered
updates handled once, and the per-user flood guard."""

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, running_app
from bot.db import create_sessionmaker
from bot.leader import POLLER_LOCK
from bot.models import Staff, Ticket, TicketEvent
from tests.audio import needs_speech_tools, speech
from tests.conftest import (
    FakeClock,
    bot_settings,
    polling_bot,
    polling_replica,
    seed_hospital,
    skip_on_sqlite,
)
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.test_health import probe
from tests.test_leader import terminate_lock_holder

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
HOOK = "https://bot.hospital.example/telegram/hook"
SECRET = "s3cret-token_for-tests"


async def redis_up() -> bool:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.flushdb()  # the test database of Redis: FSM state from earlier runs goes
        return True
    except (OSError, aioredis.ConnectionError):
        return False
    finally:
        await client.aclose()


async def deliver(app: App, update: dict[str, object], secret: str | None = SECRET) -> int:
    """POST an update to this replica's webhook, as Telegram would."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{app.web_url}/telegram/hook", json=update, headers=headers) as response,
    ):
        return response.status


async def count(app: App, model: type) -> int:
    async with app.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


@contextlib.asynccontextmanager
async def replicas(
    database_url: str, tg: FakeTelegram, n: int, **overrides: object
) -> AsyncIterator[list[App]]:
    settings = bot_settings(
        database_url,
        tg,
        webhook_url=HOOK,
        webhook_secret=SECRET,
        leader_retry=timedelta(milliseconds=300),
        **overrides,
    )
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(running_app(settings)) for _ in range(n)]


async def seeded_for_replicas(database_url: str, engine: AsyncEngine, clock: FakeClock) -> None:
    """Skip unless replicas can run here (PostgreSQL and Redis), else seed the sample hospital."""
    skip_on_sqlite(database_url, "replicas share a PostgreSQL database")
    if not await redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}")
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)


async def test_two_webhook_replicas_share_one_conversation_and_one_leader(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    await seeded_for_replicas(database_url, engine, clock)
    kim, nurse = tg.user(9001), tg.user(5001)
    async with replicas(database_url, tg, 2, redis_url=REDIS_URL) as (a, b):
        async with asyncio.timeout(5):
            while not (a.leading.is_set() or b.leading.is_set()):
                await asyncio.sleep(0.05)
        assert a.leading.is_set() != b.leading.is_set()  # exactly one leads

        assert await deliver(a, await kim.send_command("duty")) == 200
        await kim.expect("근무를 시작")
        report = await nurse.send_text("간호사실 PC 전원 안 켜짐")
        assert await deliver(b, report) == 200
        job = await kim.expect("새 작업 #1")
        assert await deliver(a, report) == 200  # Telegram redelivers: nothing happens twice
        assert await deliver(b, report) == 200
        await nurse.expect("접수되었습니다: #1")
        await nurse.expect_nothing(within=1.0)
        assert await count(a, Ticket) == 1

        # The same button pressed twice, the presses landing on both replicas at once: one wins.
        presses = [await kim.press("수락", job), await kim.press("수락", job)]
        assert await asyncio.gather(deliver(a, presses[0]), deliver(b, presses[1])) == [200, 200]
        await kim.expect_answer("#1 수락했습니다.")
        await kim.expect_answer("지금 '수락됨' 상태라")
        await kim.expect(predicate=lambda m: m.method == "editMessageReplyMarkup")
        await deliver(b, await kim.press("처리 완료", job))  # the form starts on replica B...
        question = await kim.expect("(1/5)")
        await deliver(a, await kim.press("하드웨어", question))  # ...and goes on on replica A
        await kim.expect("(2/5)")
        await deliver(b, await kim.send_text("파워 서플라이 교체"))
        await kim.expect("(3/5)")
        async with a.sessionmaker() as session:
            events = await session.scalar(select(func.count()).select_from(TicketEvent))
        assert events == 3  # report, assign, accept: nothing doubled

        # Wrong or missing secret: Telegram's header is checked, the update is not handled.
        assert await deliver(a, await kim.send_command("queue"), secret="wrong") == 401
        assert await deliver(a, await kim.send_command("queue"), secret=None) == 401
        assert a.leading.is_set() != b.leading.is_set()


@needs_speech_tools
async def test_a_voice_note_cut_off_on_one_replica_is_heard_on_another(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    await seeded_for_replicas(database_url, engine, clock)
    nurse = tg.user(5001)
    async with replicas(database_url, tg, 2, redis_url=REDIS_URL) as (b, c):
        stopping_soon = {"redis_url": REDIS_URL, "shutdown_grace": timedelta(milliseconds=100)}
        async with replicas(database_url, tg, 1, **stopping_soon) as (a,):
            voice = await nurse.send_voice(duration=3, data=speech("원무과 프린터가 안 돼요"))
            assert await deliver(a, voice) == 200
            await nurse.expect("음성 메시지를 받았습니다")
        # A stopped while its speech model was still loading, and gave the note back; B's
        # next sweep (within a minute; here at once) hears it, and the draft's state is in
        # Redis, so C can take the press.
        assert all("들은 내용" not in out.text for out in nurse.outputs)
        assert await b.dispatcher["hearing"].sweep() == 1
        heard = await nurse.expect("들은 내용", timeout=60)
        assert await deliver(c, await nurse.press("이대로 접수", heard)) == 200
        await nurse.expect("접수되었습니다: #1")
        assert await count(c, Ticket) == 1


async def test_a_follower_takes_over_when_the_leader_stops(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    skip_on_sqlite(database_url, "leadership is a PostgreSQL advisory lock")
    settings = bot_settings(database_url, tg, leader_retry=timedelta(milliseconds=200))
    async with running_app(settings) as first:
        await asyncio.wait_for(first.leading.wait(), 5)
        second_running = running_app(settings)
        second = await second_running.__aenter__()
        try:
            await asyncio.sleep(0.6)
            assert not second.leading.is_set()
        except BaseException:
            await second_running.__aexit__(None, None, None)
            raise
    try:
        await asyncio.wait_for(second.leading.wait(), 5)  # within a few retries
    finally:
        await second_running.__aexit__(None, None, None)


async def polls_alone(apps: list[App]) -> App:
    """Wait until exactly one of `apps` polls, and return it. (A poller whose lock connection
    was cut polls on until its next check of it, LEADER_RETRY at most; meanwhile the other
    may have the lock already.)"""
    async with asyncio.timeout(5):
        while len(pollers := [app for app in apps if app.poller.polling.is_set()]) != 1:
            await asyncio.sleep(0.05)
    return pollers[0]


async def test_a_standby_poller_takes_over_and_no_update_is_lost(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    skip_on_sqlite(database_url, "the poller holds a PostgreSQL advisory lock")
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    settings = bot_settings(database_url, tg, leader_retry=timedelta(milliseconds=200))
    nurse = tg.user(5001)
    async with contextlib.AsyncExitStack() as a_runs, contextlib.AsyncExitStack() as b_runs:
        a = await a_runs.enter_async_context(polling_replica(settings))
        assert await polls_alone([a]) is a
        b = await b_runs.enter_async_context(polling_replica(settings))
        await asyncio.sleep(1.0)  # five of the standby's tries at the lock
        assert await polls_alone([a, b]) is a
        assert not [c for c in tg.calls_to("getUpdates") if c.failed]  # no 409: one poller
        statuses = [await probe(app.web_url) for app in (a, b)]
        assert [(code, body["polling"]) for code, body in statuses] == [(200, True), (200, False)]
        await nurse.send_text("간호사실 PC 전원 안 켜짐")
        await nurse.expect("접수되었습니다: #1")

        # The poller's lock connection is cut: it stops polling, since it may not be alone
        # any more, and whichever replica takes the lock next polls.
        await terminate_lock_holder(engine, POLLER_LOCK)
        await nurse.send_text("원무과 프린터 용지 걸림")
        await nurse.expect("접수되었습니다: #2", timeout=10)
        poller = await polls_alone([a, b])

        # The poller stops for good; a report sent meanwhile waits for the standby.
        standby = b if poller is a else a
        await (a_runs if poller is a else b_runs).aclose()
        await nurse.send_text("응급실 키오스크 화면 멈춤")
        await nurse.expect("접수되었습니다: #3", timeout=10)
        assert await polls_alone([standby]) is standby
        await nurse.expect_nothing(within=1.0)
        assert await count(standby, Ticket) == 3  # each report filed once
        acks = [m for m in nurse.outputs if "접수되었습니다" in m.text]
        assert len(acks) == 3


async def test_a_flood_gets_one_polite_slow_down(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    settings = bot_settings(database_url, tg, flood_limit=5, flood_window=timedelta(minutes=1))
    nurse = tg.user(5001)
    async with polling_bot(settings, tg) as app:
        for n in range(8):
            await nurse.send_text(f"고장 {n}")
        await answered_as_a_flood(nurse, app)


async def answered_as_a_flood(nurse: FakeUser, app: App) -> None:
    """Eight reports at a limit of five: one "slow down", five tickets, nothing more."""
    await nurse.expect("메시지가 너무 빠르게 오고 있습니다")
    for n in range(1, 6):
        await nurse.expect(f"접수되었습니다: #{n}")
    await nurse.expect_nothing(within=1.0)
    assert await count(app, Ticket) == 5
    assert len([m for m in nurse.outputs if "너무 빠르게" in m.text]) == 1


async def test_logs_carry_no_tokens_or_personal_data(
    desk: App, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    nurse, kim, boss = tg.user(5001), tg.user(9001), tg.user(9100)
    await kim.send_command("duty")
    await kim.expect("근무를 시작")
    await nurse.send_text("주민번호 900101-1234567 환자 차트 프린터 고장")
    await nurse.expect("접수되었습니다")
    await boss.send_command("dashboard")
    link = await boss.expect("/dashboard?t=")
    token = link.text.split("?t=")[1].split()[0]
    async with aiohttp.ClientSession() as http, http.get(link.text.split()[-1]) as response:
        assert response.status == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the app does log at INFO
    for secret in ("TEST-token", token, "900101-1234567", "최간호", "김엔지", "주민번호"):
        assert secret not in logged


async def test_a_stopping_replica_finishes_the_webhook_updates_in_hand(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram
) -> None:
    """aiogram answers Telegram's post at once and handles the update in the background, so
    Telegram will not send it again: a replica stopped meanwhile must finish it first, and take
    no new one (a 503, which Telegram retries). Here a stranger's /start waits for a write lock
    on the staff table when the stop comes."""
    nurse, latecomer = tg.user(31337, "새간호사"), tg.user(31338, "늦은간호사")
    async with engine.connect() as blocker:
        async with replicas(database_url, tg, 1) as (app,):
            if engine.dialect.name == "postgresql":
                await blocker.execute(text("LOCK TABLE staff IN EXCLUSIVE MODE"))
            else:  # a write that changes nothing still takes SQLite's write lock
                await blocker.execute(text("UPDATE staff SET name = name WHERE 0"))
            assert await deliver(app, await nurse.send_command("start")) == 200
            async with asyncio.timeout(5):
                while not app.dispatcher["in_hand"].count:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)
            assert app.dispatcher["in_hand"].count == 1  # still waiting for the lock

            async def during_the_stop() -> tuple[int, int, object]:
                await asyncio.sleep(0.3)
                refused = await deliver(app, await latecomer.send_command("start"))
                probed = await probe(app.web_url)  # as the load balancer does
                await blocker.rollback()
                return refused, *probed

            stopping = asyncio.create_task(during_the_stop())
        # The replica is down: whatever it did not finish by now, a real process never will.
        answered = [
            c.params["text"] for c in tg.calls_to("sendMessage") if c.params["chat_id"] == 31337
        ]
        assert any("새간호사님, 병원 IT 수리 접수 봇입니다" in a for a in answered), answered
        assert await stopping == (503, 503, {"status": "stopping"})
    async with create_sessionmaker(engine)() as session:
        names = (await session.scalars(select(Staff.name).order_by(Staff.telegram_id))).all()
    assert names == ["새간호사"]  # the latecomer's /start is Telegram's to post again
