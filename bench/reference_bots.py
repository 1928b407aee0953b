"""The bots bench/intake.py measures repairbot against, each polling a fake Bot API of its own.

- The echo bot: one aiogram handler answering every text with itself, the ceiling of aiogram
  and HTTP in this process. A text that says COPY is also sent on to another chat, making a
  report's two Telegram calls (the reporter's ack and the engineer's job message).
- The least bot: the least a report can cost and still keep issue 7's rules, on the design
  card's stack. One handler; the report and both its messages are written in one transaction
  (SQLAlchemy Core, one statement each, a batch for every report waiting, as the intake
  batches), the job message to one of `ENGINEERS` chats in turn; a sender reads the oldest
  pending message of every chat (Telegram allows about one a second per chat, so one chat's
  messages go in order, one a pass, as the app's sender sends them), posts them as JSON and
  marks them sent. No middlewares, no routing by role, no ORM, no dispatch, no ETA: what is
  left is aiogram, the database round trips an outbox needs, and the sends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from harness import ACK
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import create_engine
from bot.notify.outbox import DeliverySession
from tests.fake_telegram import FakeTelegram

OBSERVER = 299_999
"""The chat the echo bot sends its copies to."""
ENGINEERS = 8
"""The least bot's job chats (OBSERVER and the ones below it), as many as the app has on duty
in bench/intake.py."""
COPY = "copy"
SENDS_IN_FLIGHT = 8
"""As the app's sender (OutboxSender.CONCURRENCY)."""

_tables = MetaData()
_reports = Table(
    "least_report",
    _tables,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
)
_outbox = Table(
    "least_outbox",
    _tables,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("sent", Boolean, nullable=False, default=False),
)


@contextlib.asynccontextmanager
async def polling(tg: FakeTelegram, router: Router, session: AiohttpSession) -> AsyncIterator[Bot]:
    """`router` long-polling `tg` until the block ends."""
    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot("1000:TEST-token", session=session)
    polls = len(tg.calls_to("getUpdates"))
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    await tg.wait_for_call("getUpdates", count=polls + 1)
    try:
        yield bot
    finally:
        await dp.stop_polling()
        await task


def _api(tg: FakeTelegram) -> TelegramAPIServer:
    return TelegramAPIServer.from_base(tg.base_url)


@contextlib.asynccontextmanager
async def echo_bot(tg: FakeTelegram) -> AsyncIterator[None]:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")
        if message.text == COPY:
            await message.bot.send_message(OBSERVER, COPY)  # type: ignore[union-attr]

    async with polling(tg, router, AiohttpSession(api=_api(tg))):
        yield


class _LeastDesk:
    """Files the reports waiting at one moment in one transaction, then delivers the outbox."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.bot: Bot | None = None
        self._waiting: list[tuple[int, str, asyncio.Future[int]]] = []
        self._filing: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def file(self, chat_id: int, text: str) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((chat_id, text, future))
        if self._filing is None or self._filing.done():
            self._filing = asyncio.create_task(self._file())
        return await future

    async def _file(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            async with self.engine.begin() as conn:
                ids = (
                    await conn.execute(
                        insert(_reports).returning(_reports.c.id, sort_by_parameter_order=True),
                        [{"chat_id": chat, "text": text} for chat, text, _ in batch],
                    )
                ).scalars()
                numbers = list(ids)
                messages = []
                for (chat, _, _), number in zip(batch, numbers, strict=True):
                    messages.append({"chat_id": chat, "text": f"{ACK}{number}"})
                    job = {"chat_id": OBSERVER - number % ENGINEERS, "text": f"새 작업 #{number}"}
                    messages.append(job)
                await conn.execute(insert(_outbox), messages)
            self._wake.set()
            for (_, _, future), number in zip(batch, numbers, strict=True):
                future.set_result(number)

    async def unsent(self) -> int:
        async with self.engine.connect() as conn:
            return (
                await conn.scalar(
                    select(func.count()).select_from(_outbox).where(_outbox.c.sent.is_(False))
                )
                or 0
            )

    async def _send(self, delivery: DeliverySession, queue: list[Any]) -> None:
        assert self.bot is not None
        while queue:
            _, chat, text = queue.pop()
            await delivery.send_text(self.bot, chat, text, None)

    async def deliver(self, delivery: DeliverySession) -> None:
        """Send the oldest pending message of every chat, a hundred at a time, until cancelled."""
        heads = (
            select(func.min(_outbox.c.id))
            .where(_outbox.c.sent.is_(False))
            .group_by(_outbox.c.chat_id)
        )
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                async with self.engine.connect() as conn:
                    rows = (
                        await conn.execute(
                            select(_outbox.c.id, _outbox.c.chat_id, _outbox.c.text)
                            .where(_outbox.c.id.in_(heads))
                            .order_by(_outbox.c.id)
                            .limit(100)
                        )
                    ).all()
                if not rows:
                    break
                queue = list(reversed(rows))
                await asyncio.gather(*(self._send(delivery, queue) for _ in range(SENDS_IN_FLIGHT)))
                async with self.engine.begin() as conn:
                    await conn.execute(
                        update(_outbox)
                        .where(_outbox.c.id.in_([row.id for row in rows]))
                        .values(sent=True)
                    )


@contextlib.asynccontextmanager
async def least_bot(tg: FakeTelegram, url: str) -> AsyncIterator[_LeastDesk]:
    """The least bot on the database `url` (its two tables made there)."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_tables.create_all)
    desk = _LeastDesk(engine)
    router = Router()

    @router.message(F.text)
    async def report(message: Message) -> None:
        await desk.file(message.chat.id, message.text or "")

    delivery = DeliverySession(api=_api(tg))  # sends only: it does not parse what it gets
    try:
        async with polling(tg, router, AiohttpSession(api=_api(tg))) as bot:
            desk.bot = bot
            sending = asyncio.create_task(desk.deliver(delivery))
            try:
                yield desk
            finally:
                sending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sending
    finally:
        await delivery.close()
        await engine.dispose()
