"""The outbox sender's own way of posting a text: the same form aiogram posts, the same errors
aiogram raises, and the keyboard as the outbox stored it."""

import json
import socket
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.notify.outbox import DeliverySession, _accepted
from tests.fake_telegram import FakeTelegram

KEYBOARD = json.dumps({"inline_keyboard": [[{"text": "수락", "callback_data": "t1:accept:7"}]]})


def bot_at(base_url: str) -> Bot:
    return Bot(
        "1000:TEST-token", session=DeliverySession(api=TelegramAPIServer.from_base(base_url))
    )


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = bot_at(tg.base_url)
    yield bot
    await bot.session.close()


def delivery(bot: Bot) -> DeliverySession:
    assert isinstance(bot.session, DeliverySession)
    return bot.session


async def test_a_text_arrives_with_its_keyboard(tg: FakeTelegram, bot: Bot) -> None:
    await delivery(bot).send_text(bot, 5001, "접수되었습니다: #7", KEYBOARD)
    await delivery(bot).send_text(bot, 5001, "버튼 없는 알림", None)
    first, second = tg.chat_messages(5001)
    assert first["text"] == "접수되었습니다: #7"
    assert first["reply_markup"] == json.loads(KEYBOARD)
    assert second["text"] == "버튼 없는 알림" and "reply_markup" not in second


@pytest.mark.parametrize(
    ("status", "answer", "taken"),
    [
        (200, '{"ok":true,"result":{"message_id":7,"text":"접수"}}', True),  # Telegram's own
        (200, '{"ok": true, "result": {"message_id": 7}}', True),  # aiohttp's json_response
        (200, '{ "ok" : true }', True),
        (200, '{"result":{"message_id":7},"ok":true}', True),  # parsed, not matched
        (200, '{"ok":false,"error_code":400,"description":"Bad Request"}', False),
        (200, '{"ok":trueish}', False),
        (200, "<html>gateway</html>", False),
        (500, '{"ok":true,"result":{}}', False),
    ],
)
def test_a_send_is_taken_only_on_a_successful_answer(status: int, answer: str, taken: bool) -> None:
    assert _accepted(status, answer) is taken


async def test_telegrams_refusals_are_aiograms_errors(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await delivery(bot).send_text(bot, 5001, "하나", None)
    assert caught.value.retry_after == 3
    tg.fail_next("sendMessage", 403)
    with pytest.raises(TelegramForbiddenError):
        await delivery(bot).send_text(bot, 5001, "둘", None)
    tg.fail_next("sendMessage", 502)
    with pytest.raises(TelegramServerError):
        await delivery(bot).send_text(bot, 5001, "셋", None)
    assert tg.chat_messages(5001) == []


async def test_nobody_listening_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = bot_at(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(TelegramNetworkError):
            await delivery(bot).send_text(bot, 5001, "아무도 없음", None)
    finally:
        await bot.session.close()
