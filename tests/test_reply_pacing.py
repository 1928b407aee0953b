"""Handler replies take their turns from the same pacer as the outbox's notices, so a reply
right after a notice to the same chat waits for its second instead of meeting a 429; a 429 met
anyway is waited out and the reply sent again.

Real time over the fake Bot API with Telegram's limits enforced (1 message a second per chat).
"""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import create_sessionmaker
from bot.notify.pacing import PacedRequests, Pacer
from tests.conftest import FakeClock, bot_settings, polling_bot, seed_hospital
from tests.fake_telegram import ApiCall, FakeTelegram


def to_chat(tg: FakeTelegram, chat_id: int) -> list[ApiCall]:
    """Successful sends and edits in one chat, in arrival order."""
    return [
        c
        for c in tg.calls
        if c.method.lower() in {"sendmessage", "editmessagereplymarkup", "editmessagetext"}
        and str(c.params.get("chat_id")) == str(chat_id)
        and not c.failed
    ]


def gaps(calls: list[ApiCall]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(calls)]


@pytest.fixture
async def paced_bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    api = TelegramAPIServer.from_base(tg.base_url)
    bot = Bot("1000:TEST-token", session=AiohttpSession(api=api))
    bot.session.middleware(PacedRequests(Pacer(overall_rate=30.0, per_chat_rate=1.0)))
    yield bot
    await bot.session.close()


async def test_sends_to_one_chat_wait_their_turn_and_other_chats_do_not(
    tg: FakeTelegram, paced_bot: Bot
) -> None:
    tg.enforce_limits(per_chat=1.0, overall=30.0)
    started = time.monotonic()
    await asyncio.gather(
        paced_bot.send_message(7001, "하나"),
        paced_bot.send_message(7001, "둘"),
        paced_bot.send_message(7002, "다른 병동"),
    )
    assert tg.throttled == []
    assert [c.params["text"] for c in to_chat(tg, 7001)] == ["하나", "둘"]
    assert gaps(to_chat(tg, 7001))[0] >= 0.9
    assert to_chat(tg, 7002)[0].at - started < 0.5


async def test_a_reply_that_meets_a_429_waits_and_goes_again(
    tg: FakeTelegram, paced_bot: Bot
) -> None:
    tg.fail_next("sendMessage", 429, retry_after=1, chat_id=7001)
    started = time.monotonic()
    await paced_bot.send_message(7001, "다시")
    assert [c.failed for c in tg.calls_to("sendMessage")] == [True, False]
    assert time.monotonic() - started >= 1.0


async def test_a_reply_right_after_a_notice_to_the_same_chat_is_not_throttled(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    """Regression: the new job's notice (outbox) and the engineer's /queue answer (handler)
    went out within a second of each other, and Telegram answered the second with a 429."""
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    tg.enforce_limits(per_chat=1.0, overall=30.0)
    settings = bot_settings(database_url, tg, outbox_per_chat_rate=1.0)
    engineer, nurse = tg.user(9001), tg.user(5001)
    async with polling_bot(settings, tg):
        await engineer.send_command("duty")
        await engineer.expect("근무를 시작")  # a reply, and right after it...
        await nurse.send_text("프린터 용지 걸림")
        await engineer.expect("새 작업 #1")  # ...a notice, and right after that...
        await engineer.send_command("queue")
        await engineer.expect("내 작업 대기열 (1건)", timeout=5)  # ...a reply again
    assert tg.throttled == []
    assert len(to_chat(tg, 9001)) == 3
    assert all(gap >= 0.9 for gap in gaps(to_chat(tg, 9001))), gaps(to_chat(tg, 9001))
