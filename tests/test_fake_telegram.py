"""The fake Telegram server driven by a real aiogram Bot + Dispatcher over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.filters import CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tests.fake_telegram import FakeTelegram, UploadedFile


class Pick(CallbackData, prefix="pick"):
    choice: str


def make_router() -> Router:
    """A fresh router per test: an aiogram Router can be attached to one Dispatcher only."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        kb = InlineKeyboardBuilder()
        kb.button(text="🍎 Apple", callback_data=Pick(choice="apple"))
        kb.button(text="🍐 Pear", callback_data=Pick(choice="pear"))
        await message.answer("Choose a fruit", reply_markup=kb.as_markup())

    @router.callback_query(Pick.filter())
    async def picked(query: CallbackQuery, callback_data: Pick) -> None:
        await query.answer(f"You chose {callback_data.choice}")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Chosen: {callback_data.choice}")

    @router.callback_query()
    async def unknown(query: CallbackQuery) -> None:
        await query.answer("Unknown button", show_alert=True)

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document)
        assert data is not None
        await message.answer(f"got {message.document.file_name}: {len(data.read())} bytes")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    bot = Bot("1000:TEST-token", session=session)
    yield bot
    await bot.session.close()


@pytest.fixture
async def polling(fake: FakeTelegram, bot: Bot) -> AsyncIterator[Dispatcher]:
    dp = Dispatcher()
    dp.include_router(make_router())
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    await fake.wait_for_call("getUpdates")  # polling is live; stop_polling() is now valid
    yield dp
    if not task.done():
        await dp.stop_polling()
    await task
    # start_polling does not wait for handler tasks it spawned; let them finish cleanly.
    await asyncio.gather(*dp._handle_update_tasks, return_exceptions=True)


async def test_echo_and_command(fake: FakeTelegram, polling: Dispatcher) -> None:
    alice = fake.user(1, "Alice")
    await alice.send_text("hello")
    assert (await alice.expect("echo: hello")).method == "sendMessage"
    await alice.send_text("123")  # must stay a str end to end (not JSON-decoded to int)
    await alice.expect("echo: 123")
    call = fake.calls_to("sendMessage")[-1]
    assert call.params["text"] == "echo: 123" and call.params["chat_id"] == 1
    assert call.token == "1000:TEST-token"


async def test_forgetting_drops_what_was_sent_and_users_read_what_comes_next(
    fake: FakeTelegram, polling: Dispatcher
) -> None:
    alice = fake.user(1, "Alice")
    await alice.send_command("start")
    await alice.expect("Choose a fruit")
    await alice.press("Pear")
    await alice.expect_answer("pear")
    await alice.expect("Chosen: pear")
    fake.forget()
    assert (fake.calls, fake.outputs_to(1), fake.chat_messages(1)) == ([], [], [])
    await alice.send_text("again")
    assert (await alice.expect("echo: again")).method == "sendMessage"
    sent = [c.params["text"] for c in fake.calls_to("sendMessage")]
    assert (sent, fake.calls_to("answerCallbackQuery")) == (["echo: again"], [])


async def test_keyboard_press_answer_and_edit(fake: FakeTelegram, polling: Dispatcher) -> None:
    bob = fake.user(2, "Bob")
    await bob.send_command("start")
    menu = await bob.expect("Choose a fruit")
    assert menu.button_texts == ["🍎 Apple", "🍐 Pear"]
    assert menu.buttons[1] == ("🍐 Pear", "pick:pear")
    assert isinstance(fake.calls_to("sendMessage")[-1].params["reply_markup"], dict)

    await bob.press("Pear")
    assert await bob.expect_answer("pear") == "You chose pear"
    edited = await bob.expect("Chosen: pear")
    assert (edited.method, edited.message_id, edited.reply_markup) == (
        "editMessageText",
        menu.message_id,
        None,
    )  # the edit dropped the keyboard

    with pytest.raises(AssertionError, match="no inline button containing 'Apple'"):
        await bob.press("Apple")  # keyboard is gone from the current message

    await bob.press_data("forged:data", message=menu)
    assert await bob.expect_answer() == "Unknown button"


async def test_expect_failure_lists_outputs(fake: FakeTelegram, polling: Dispatcher) -> None:
    carol = fake.user(3)
    await carol.send_text("ping")
    with pytest.raises(AssertionError, match=r"(?s)'pong'.*echo: ping"):
        await carol.expect("pong", timeout=0.3)
    await carol.expect_nothing(within=0.2)  # "echo: ping" was consumed by the failed search
    await carol.send_sticker()  # no handler for stickers
    await carol.expect_nothing(within=0.3)
    assert len(carol.outputs) == 1


async def test_user_document_is_downloadable(fake: FakeTelegram, polling: Dispatcher) -> None:
    dave = fake.user(4)
    await dave.send_document("report.pdf", data=b"x" * 42)
    await dave.expect("got report.pdf: 42 bytes")


async def test_retry_after_surfaces(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, retry_after=1)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(5, "hi")
    assert info.value.retry_after == 1
    assert fake.calls_to("sendMessage")[0].failed
    sent = await bot.send_message(5, "hi")  # only the next call failed
    assert sent.text == "hi" and sent.from_user is not None and sent.from_user.id == 1000
    assert [o.text for o in fake.user(5).outputs] == ["hi"]


async def test_fail_next_per_chat(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 403, chat_id=6)
    await bot.send_message(7, "fine")
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(6, "x")


async def test_a_second_poller_ends_the_first_ones_long_poll_with_409(
    fake: FakeTelegram, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_call("getUpdates")
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    await fake.user(5).send_text("hi")
    assert [u.message.text for u in await second if u.message] == ["hi"]


async def test_get_file_and_download(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_file("doc-1", b"%PDF payload")
    file = await bot.get_file("doc-1")
    assert file.file_path == "files/doc-1"
    data = await bot.download("doc-1")
    assert data is not None and data.read() == b"%PDF payload"


async def test_upload_and_edit_errors(fake: FakeTelegram, bot: Bot) -> None:
    kb = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]])
    doc = await bot.send_document(
        8, BufferedInputFile(b"abc", "log.txt"), caption="logs", reply_markup=kb
    )
    upload = fake.calls_to("sendDocument")[0].params["document"]
    assert isinstance(upload, UploadedFile) and upload.data == b"abc"
    assert doc.document is not None and doc.document.file_name == "log.txt"
    assert fake.files[doc.document.file_id] == b"abc"
    assert fake.user(8).outputs[0].text == "logs"

    with pytest.raises(TelegramBadRequest, match="no text in the message"):
        await bot.edit_message_text(chat_id=8, message_id=doc.message_id, text="x")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(chat_id=8, message_id=999, text="x")
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_reply_markup(chat_id=8, message_id=doc.message_id, reply_markup=kb)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(8, "temp < 5", parse_mode="HTML")
    msg = await bot.send_message(8, "<b>Hot</b> &lt;5", parse_mode="HTML")
    assert msg.text == "Hot <5"
