"""The outbox sender keeps under Telegram's limits by itself (30 messages a second in all, one a
second per chat) instead of waiting for 429s, without holding one chat up behind another.

Real time over the fake Bot API with its limits enforced: a send over a limit would be a 429.
"""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.models import OutboxMessage, OutboxStatus
from bot.notify.outbox import DeliverySession, Outbox, OutboxSender
from tests.fake_telegram import ApiCall, FakeTelegram


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(
        "1000:TEST-token", session=DeliverySession(api=TelegramAPIServer.from_base(tg.base_url))
    )
    yield bot
    await bot.session.close()


def make_sender(bot: Bot, sessionmaker: async_sessionmaker[AsyncSession]) -> OutboxSender:
    return OutboxSender(bot, sessionmaker, SystemClock(), timedelta(seconds=2))


async def queue(
    sessionmaker: async_sessionmaker[AsyncSession], messages: list[tuple[int, str]]
) -> None:
    async with sessionmaker() as session:
        outbox = Outbox(session, SystemClock())
        for chat_id, text in messages:
            outbox.add_message(chat_id, text)
        await outbox.write()
        await session.commit()


def delivered(tg: FakeTelegram) -> list[ApiCall]:
    return [c for c in tg.calls_to("sendMessage") if not c.failed]


@pytest.fixture
def limited(tg: FakeTelegram) -> FakeTelegram:
    tg.enforce_limits(per_chat=1.0, overall=30.0)
    return tg


async def test_a_hundred_chats_go_out_at_thirty_a_second_each_once(
    limited: FakeTelegram, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await queue(sessionmaker, [(7000 + n, f"알림 {n}") for n in range(100)])
    sender = make_sender(bot, sessionmaker)
    started = time.monotonic()
    assert await sender.drain() == 100
    took = time.monotonic() - started
    calls = delivered(limited)
    assert sorted(c.params["chat_id"] for c in calls) == [7000 + n for n in range(100)]
    assert limited.throttled == []
    assert 99 / 30 - 0.1 <= took < 8.0
    spread = calls[-1].at - calls[0].at
    assert spread >= 99 / 30 - 0.1  # paced, not a burst followed by a wait
    async with sessionmaker() as session:
        statuses = set(await session.scalars(select(OutboxMessage.status)))
    assert statuses == {OutboxStatus.SENT}


async def test_one_chat_gets_one_a_second_in_order_and_others_are_not_held_up(
    limited: FakeTelegram, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    busy, others = 7001, [7002, 7003, 7004]
    await queue(sessionmaker, [(busy, f"#{n}") for n in (1, 2, 3)])
    await queue(sessionmaker, [(chat, "다른 병동") for chat in others])
    sender = make_sender(bot, sessionmaker)
    started = time.monotonic()
    task = asyncio.create_task(sender.run())
    try:
        await limited.wait_for_call("sendMessage", count=6, timeout=8)
        await asyncio.sleep(0.3)
    finally:
        sender.stop()
        await task
    calls = delivered(limited)
    to_busy = [c for c in calls if c.params["chat_id"] == busy]
    assert [c.params["text"] for c in to_busy] == ["#1", "#2", "#3"]
    gaps = [b.at - a.at for a, b in itertools.pairwise(to_busy)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    to_others = [c for c in calls if c.params["chat_id"] in others]
    assert sorted(c.params["chat_id"] for c in to_others) == others
    assert max(c.at for c in to_others) - started < 0.8  # not queued behind the busy chat
    assert len(calls) == 6 and limited.throttled == []


async def test_a_wake_mid_wait_sends_new_chats_at_once(
    limited: FakeTelegram, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The sender sleeps until the paced chat is ready, but a new notice to another chat does
    not wait for that."""
    await queue(sessionmaker, [(7001, "첫째"), (7001, "둘째")])
    sender = make_sender(bot, sessionmaker)
    task = asyncio.create_task(sender.run())
    try:
        first = await limited.wait_for_call("sendMessage", count=1)
        await asyncio.sleep(0.2)
        await queue(sessionmaker, [(7002, "새 작업")])
        sender.wake()
        other = await limited.wait_for_call("sendMessage", count=2, timeout=2)
        second = await limited.wait_for_call("sendMessage", count=3, timeout=3)
    finally:
        sender.stop()
        await task
    assert other.params["chat_id"] == 7002 and other.at - first.at < 0.6
    assert second.params["text"] == "둘째" and second.at - first.at >= 1.0


async def test_a_row_waiting_for_a_retry_holds_back_the_later_rows_of_its_chat(
    tg: FakeTelegram, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Regression: the second notice to a chat used to overtake the first while the first
    waited out a 429."""
    tg.fail_next("sendMessage", 429, retry_after=1, chat_id=7001)
    await queue(sessionmaker, [(7001, "먼저"), (7001, "나중"), (7002, "다른 채팅")])
    sender = make_sender(bot, sessionmaker)
    task = asyncio.create_task(sender.run())
    try:
        await tg.wait_for_call("sendMessage", count=4, timeout=8)
    finally:
        sender.stop()
        await task
    texts = [c.params["text"] for c in delivered(tg) if c.params["chat_id"] == 7001]
    assert texts == ["먼저", "나중"]
    assert delivered(tg)[0].params["chat_id"] == 7002


async def drained_writes(
    engine: AsyncEngine, sender: OutboxSender, settled: int
) -> list[tuple[float, int]]:
    """Drain `sender` (`settled` rows sent); its writes of what became of them, as they reached
    the database: (when, how many rows)."""
    writes: list[tuple[float, int]] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            writes.append((time.monotonic(), len(params) if many else 1))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await sender.drain() == settled
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    return writes


async def test_outcomes_are_written_a_few_rows_at_a_time_not_one_by_one(
    tg: FakeTelegram,
    bot: Bot,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Unpaced, sends finish faster than a write: the rows tried meanwhile wait for the next
    write of at least `concurrency` rows, instead of every worker writing its own few."""
    await queue(sessionmaker, [(7000 + n, f"알림 {n}") for n in range(60)])
    sender = OutboxSender(bot, sessionmaker, SystemClock(), timedelta(seconds=2), overall_rate=1e9)
    writes = [rows for _, rows in await drained_writes(engine, sender, 60)]
    assert sum(writes) == 60
    assert all(rows >= sender.concurrency for rows in writes[:-1]), writes
    assert sorted(c.params["chat_id"] for c in delivered(tg)) == [7000 + n for n in range(60)]
    async with sessionmaker() as session:
        statuses = set(await session.scalars(select(OutboxMessage.status)))
    assert statuses == {OutboxStatus.SENT}


async def test_fast_sends_are_recorded_at_most_ten_times_a_second(
    tg: FakeTelegram,
    bot: Bot,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """At 200 sends a second, `concurrency` rows are tried every 40 ms; a write waits for
    `RECORD_EVERY` as well, so the outcomes go out in fewer, larger writes."""
    await queue(sessionmaker, [(7000 + n, f"알림 {n}") for n in range(100)])
    sender = OutboxSender(
        bot, sessionmaker, SystemClock(), timedelta(seconds=2), overall_rate=200.0
    )
    writes = await drained_writes(engine, sender, 100)
    assert sum(rows for _, rows in writes) == 100
    assert len(writes) >= 4, writes  # half a second of sends
    # Each write but the pass's last waited for the span (timed here at its statement, after
    # its connection's checkout: a few ms of slack).
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(writes[:-1])]
    assert min(gaps) >= sender.RECORD_EVERY - 0.015, gaps
    assert sorted(c.params["chat_id"] for c in delivered(tg)) == [7000 + n for n in range(100)]


async def test_stop_lets_the_batch_in_hand_finish(
    tg: FakeTelegram, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await queue(sessionmaker, [(7000 + n, "알림") for n in range(20)])
    sender = make_sender(bot, sessionmaker)
    task = asyncio.create_task(sender.run())
    await tg.wait_for_call("sendMessage", count=1)
    sender.stop()
    await task
    assert len(delivered(tg)) == 20
    async with sessionmaker() as session:
        pending = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        ).all()
    assert pending == []


async def test_fake_telegram_answers_429_over_its_limits(tg: FakeTelegram, bot: Bot) -> None:
    tg.enforce_limits(per_chat=1.0, overall=30.0)
    await bot.send_message(7001, "하나")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(7001, "둘")
    assert caught.value.retry_after == 1
    for n in range(29):
        await bot.send_message(7100 + n, "각자 하나")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(7200, "서른한 번째")
    assert len(tg.throttled) == 2
    tg.lift_limits()
    await bot.send_message(7001, "셋")
