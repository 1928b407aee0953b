"""The outbox: notices become rows in the same transaction as the change that caused them,
and a sender delivers them afterwards, retrying until Telegram takes them.

A notice therefore never goes out for a change that was rolled back, and is never lost
because Telegram was down or the process restarted.
"""

import asyncio
import contextlib
import json
import logging
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, ClassVar, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiohttp import ClientError, ClientTimeout
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db import standalone
from bot.models import OutboxMessage, OutboxStatus
from bot.notify.pacing import Pacer
from bot.notify.render import render
from bot.services.notices import Notice

log = logging.getLogger(__name__)

PERMANENT_ERRORS = (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound)
"""Errors that will not go away by retrying: the user blocked the bot, the chat is gone."""
MAX_BACKOFF = timedelta(minutes=5)
BATCH = 100


class Outbox:
    """Collects the notices of one unit of work, then writes them as outbox rows in one
    statement (`write`, before the commit): no row objects, no ids read back."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.added = 0
        self._rows: list[dict[str, Any]] = []

    def add(self, notices: Iterable[Notice]) -> None:
        for notice in notices:
            message = render(notice)
            self.add_message(message.chat_id, message.text, message.markup)

    def add_message(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | str | None = None,
        photo: bytes | None = None,
    ) -> None:
        """A rendered message (or a photo with `text` as caption) for one chat; `markup` is a
        keyboard or one already in JSON."""
        now = self.clock.now()
        self._rows.append(
            {
                "chat_id": chat_id,
                "text": text,
                "reply_markup": markup
                if markup is None or isinstance(markup, str)
                else markup.model_dump_json(exclude_none=True),
                "photo": photo,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
        )

    @property
    def waiting(self) -> bool:
        """Whether messages were added since the last write."""
        return bool(self._rows)

    async def write(self) -> None:
        """Insert what was added since the last write, in this session's transaction."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        await self.session.execute(insert(OutboxMessage), rows)
        self.added += len(rows)


_OK_FIRST = re.compile(r'\{\s*"ok"\s*:\s*true\s*[,}]')
"""How Telegram's answers to a success begin: `{"ok":true,"result":…}`."""


def _accepted(status_code: int, content: str) -> bool:
    """Whether Telegram took the message. An answer that begins as a success is one (its
    `result` is not needed), which spares parsing the message it echoes back: ~2 % of
    `bench/intake.py`'s CPU; any other answer is parsed."""
    if not HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
        return False
    if _OK_FIRST.match(content):
        return True
    try:
        answer = json.loads(content)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("ok") is True


class DeliverySession(AiohttpSession):
    """The sender's HTTP session. It needs to know whether Telegram took a message, not the
    message Telegram made of it: a success is not parsed into aiogram's types (that pydantic
    validation was a fifth of a send's CPU), and a text goes out with its keyboard as the
    outbox holds it, in JSON, rather than through aiogram's models and back. Failures are
    classified by aiogram, as for any other request."""

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        if _accepted(status_code, content):
            return cast("Response[TelegramType]", Response.model_construct(ok=True))
        return super().check_response(bot, method, status_code, content)

    async def send_text(self, bot: Bot, chat_id: int, text: str, reply_markup: str | None) -> None:
        """sendMessage as a JSON body, without building aiogram's models (a form's URL-encoding
        cost more than the JSON)."""
        body = json.dumps({"chat_id": chat_id, "text": text}, ensure_ascii=False)
        if reply_markup is not None:  # the keyboard as the outbox holds it, already JSON
            body = f'{body[:-1]},"reply_markup":{reply_markup}}}'
        http = await self.create_session()
        url = self.api.api_url(token=bot.token, method="sendMessage")
        try:
            async with http.post(
                url, data=body.encode(), headers=_JSON, timeout=ClientTimeout(self.timeout)
            ) as answer:
                status_code, content = answer.status, await answer.text()
        except TimeoutError as exc:
            raise TelegramNetworkError(_text(chat_id, text), "Request timeout error") from exc
        except ClientError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise TelegramNetworkError(_text(chat_id, text), message) from exc
        if not _accepted(status_code, content):
            super().check_response(bot, _text(chat_id, text), status_code, content)


_JSON = {"Content-Type": "application/json"}


def _text(chat_id: int, text: str) -> SendMessage:
    """The method a failed send is reported against."""
    return SendMessage(chat_id=chat_id, text=text)


_OUTCOME = ("status", "attempts", "sent_at", "next_attempt_at", "last_error")


@dataclass
class _Due:
    """A pending row as the sender reads it (plain columns: loading ORM objects was a good part
    of a send's CPU), and what became of it."""

    COLUMNS: ClassVar = (
        OutboxMessage.id,
        OutboxMessage.chat_id,
        OutboxMessage.next_attempt_at,
        OutboxMessage.text,
        OutboxMessage.reply_markup,
        OutboxMessage.photo,
        OutboxMessage.attempts,
    )
    id: int
    chat_id: int
    next_attempt_at: datetime
    text: str
    reply_markup: str | None
    photo: bytes | None
    attempts: int
    status: OutboxStatus = OutboxStatus.PENDING
    sent_at: datetime | None = None
    last_error: str | None = None

    def outcome(self) -> dict[str, Any]:
        return {f"new_{column}": getattr(self, column) for column in _OUTCOME} | {"row_id": self.id}


_RECORD = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("row_id"))
    .values({column: bindparam(f"new_{column}") for column in _OUTCOME})
)
"""A row's outcome, as a Core executemany: the ORM's bulk update by primary key cost more."""


_HEADS = (
    select(*_Due.COLUMNS)
    .where(
        OutboxMessage.id.in_(
            select(func.min(OutboxMessage.id))
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .group_by(OutboxMessage.chat_id)
        )
    )
    .order_by(OutboxMessage.id)
)
"""The oldest pending row of every chat, as plain columns: one statement, built once."""


@dataclass
class _Pass:
    """What one pass over the outbox did and when another could do more."""

    settled: int = 0
    paced: float | None = None
    """Seconds until a chat skipped for the per-chat limit may receive again."""
    retry: float | None = None
    """Seconds until a row held back by a retry or backoff is due."""


def _sooner(current: float | None, seconds: float) -> float:
    return seconds if current is None else min(current, seconds)


class OutboxSender:
    """Delivers pending outbox rows in order, chat by chat, with backoff on failures, and paced
    under Telegram's limits so that it does not meet 429s in the first place.

    Each pass takes the oldest pending row of every chat; a chat that is not ready (its last
    message went out less than a second ago, or its oldest row waits out a retry) is skipped
    together with its later rows, so it never holds up the others. The rows of one pass go out
    concurrently, read in one query and settled a few at a time, at most `overall_rate` a
    second in id order. The turns come from `pacer`, shared with the handlers' replies when
    the app passes one.
    """

    OVERALL_RATE = 30.0
    """Messages a second for the whole bot: Telegram's documented bulk limit."""
    PER_CHAT_RATE = 1.0
    """Messages a second to one chat: Telegram asks for no more than about one."""
    CONCURRENCY = 8
    """Sends in flight at once (none holds a database connection)."""
    RECORD_EVERY = 0.1
    """Seconds between two writes of what became of the sends, at least: a write waits for
    `concurrency` rows and for this, so above ~80 sends a second (the bench's unpaced sender, a
    raised limit) writes stay ten a second. At Telegram's 30 a second the rows rule."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        poll_every: timedelta,
        *,
        overall_rate: float = OVERALL_RATE,
        per_chat_rate: float = PER_CHAT_RATE,
        concurrency: int = CONCURRENCY,
        pacer: Pacer | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not isinstance(bot.session, DeliverySession):
            raise TypeError("the sender's bot sends through a DeliverySession")
        self.bot = bot
        self.delivery = bot.session
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.poll_every = poll_every
        self.pacer = pacer or Pacer(overall_rate, per_chat_rate)
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._stopping = False
        self._passing = asyncio.Lock()  # drain() from a test and run() never send a row twice

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stop(); a stop lets the batch in hand finish rather than cutting a send
        (or its database write) in half. Between passes it sleeps until a skipped chat is ready,
        a retry is due, it is woken, or `poll_every` has passed."""
        while not self._stopping:
            self._wake.clear()
            try:
                done = await self._pass()
            except Exception:
                log.exception("outbox drain failed; retrying")
                done = _Pass()
            if self._stopping:
                break
            if done.settled:
                continue  # more may have come in while sending
            waits = [w for w in (done.paced, done.retry) if w is not None]
            timeout = min([self.poll_every.total_seconds(), *waits])
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    def resume(self) -> None:
        """Let a stopped sender run() again (a replica that takes the lead back)."""
        self._stopping = False

    async def drain(self) -> int:
        """Send what is due now, waiting out the rate limits between messages to one chat;
        returns how many rows were settled (sent or given up). Rows waiting for a retry or a
        backoff are left for later."""
        settled = 0
        while True:
            done = await self._pass()
            settled += done.settled
            if done.paced is None:
                return settled
            await asyncio.sleep(done.paced)

    async def _pass(self) -> _Pass:
        """Send the oldest pending row of every chat that may receive now, up to BATCH."""
        async with self._passing:
            done = _Pass()
            async with self.sessionmaker() as session:
                connection = await standalone(session)  # Core, as `_record`
                heads = (await connection.execute(_HEADS)).all()
            db_now = self.clock.now()
            due: deque[_Due] = deque()
            for head in heads:
                row = _Due(**head._asdict())
                if row.next_attempt_at > db_now:
                    done.retry = _sooner(done.retry, (row.next_attempt_at - db_now).total_seconds())
                elif (wait := self.pacer.ready_in(row.chat_id)) > 0:
                    done.paced = _sooner(done.paced, wait)
                elif len(due) < BATCH:
                    due.append(row)
                else:
                    done.paced = 0.0  # the rest of a full batch may go at once
            if due:
                await self._send_all(due, done)
            return done

    async def _send_all(self, pending: deque[_Due], done: _Pass) -> None:
        """Send the rows `pending` (one per chat, in id order) with up to `concurrency` in
        flight; what became of them is written `concurrency` or more at a time, and at most
        every `RECORD_EVERY`: a send holds no connection, and a crash repeats at most the
        messages of one such span. One worker records while the others go on sending; the
        rows tried meanwhile wait for its next write rather than each making a small one."""
        tried: list[_Due] = []
        recording = asyncio.Lock()
        clock = asyncio.get_running_loop().time
        written = clock()

        def due() -> bool:
            return len(tried) >= self.concurrency and clock() - written >= self.RECORD_EVERY

        async def record(final: bool = False) -> None:
            nonlocal written
            if recording.locked() and not final:
                return  # the worker recording now takes these too
            async with recording:
                while tried and (final or due()):
                    batch = tried[:]
                    del tried[:]
                    written = clock()
                    await self._record(batch)

        async def worker() -> None:
            while pending:
                await self.pacer.turn()
                if not pending:
                    return
                row = pending.popleft()
                if (wait := self.pacer.ready_in(row.chat_id)) > 0:  # a reply took the chat
                    done.paced = _sooner(done.paced, wait)
                    continue
                async with self.pacer.chat(row.chat_id):
                    try:
                        if await self._send(row):
                            done.settled += 1
                    finally:
                        tried.append(row)
                if due():
                    await record()

        workers = [worker() for _ in range(min(self.concurrency, len(pending)))]
        try:
            results = await asyncio.gather(*workers, return_exceptions=True)
        finally:
            await record(final=True)
        if failures := [r for r in results if isinstance(r, BaseException)]:
            raise failures[0]

    async def _record(self, rows: list[_Due]) -> None:
        """What became of these rows (sent, given up, or when to try again), in one statement."""
        async with self.sessionmaker() as session:
            connection = await standalone(session)  # Core: not the ORM's bulk update
            await connection.execute(_RECORD, [row.outcome() for row in rows])
            await session.commit()

    async def _send(self, row: _Due) -> bool:
        now = self.clock.now()
        row.attempts += 1
        try:
            if row.photo is not None:
                picture = BufferedInputFile(row.photo, f"{row.id}.png")
                markup = (
                    InlineKeyboardMarkup.model_validate_json(row.reply_markup)
                    if row.reply_markup
                    else None
                )
                await self.bot.send_photo(
                    row.chat_id, picture, caption=row.text, reply_markup=markup
                )
            else:
                await self.delivery.send_text(self.bot, row.chat_id, row.text, row.reply_markup)
        except TelegramRetryAfter as exc:
            row.next_attempt_at = now + timedelta(seconds=exc.retry_after)
            row.last_error = f"retry after {exc.retry_after}s"
            return False
        except TelegramUnauthorizedError:
            raise
        except PERMANENT_ERRORS as exc:
            row.status = OutboxStatus.FAILED
            row.last_error = str(exc)[:500]
            log.warning("outbox message %s given up: %s", row.id, type(exc).__name__)
            return True
        except TelegramAPIError as exc:
            backoff = min(timedelta(seconds=2 ** min(row.attempts, 10)), MAX_BACKOFF)
            row.next_attempt_at = now + backoff
            row.last_error = str(exc)[:500]
            return False
        row.status = OutboxStatus.SENT
        row.sent_at = now
        return True
