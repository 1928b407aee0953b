"""The outbox: notices become rows in the same transaction as the change that caused them,
and a sender delivers them afterwards, retrying until Telegram takes them.

A notice therefore never goes out for a change that was rolled back, and is never lost
because Telegram was down or the process restarted.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.models import OutboxMessage, OutboxStatus
from bot.notify.render import render
from bot.services.notices import Notice

log = logging.getLogger(__name__)

PERMANENT_ERRORS = (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound)
"""Errors that will not go away by retrying: the user blocked the bot, the chat is gone."""
MAX_BACKOFF = timedelta(minutes=5)
BATCH = 100


class Outbox:
    """Collects the notices of one unit of work into outbox rows."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.added = 0

    def add(self, notices: Iterable[Notice]) -> None:
        for notice in notices:
            message = render(notice)
            self.add_message(message.chat_id, message.text, message.markup)

    def add_message(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        photo: bytes | None = None,
    ) -> None:
        """A rendered message (or a photo with `text` as caption) for one chat."""
        now = self.clock.now()
        self.session.add(
            OutboxMessage(
                chat_id=chat_id,
                text=text,
                reply_markup=markup.model_dump_json(exclude_none=True) if markup else None,
                photo=photo,
                created_at=now,
                next_attempt_at=now,
            )
        )
        self.added += 1


class OutboxSender:
    """Delivers pending outbox rows in order, chat by chat, with backoff on failures."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        poll_every: timedelta,
    ) -> None:
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.poll_every = poll_every
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stop(); a stop lets the batch in hand finish rather than cutting a send
        (or its database write) in half."""
        while not self._stopping:
            self._wake.clear()
            try:
                sent = await self.drain()
            except Exception:
                log.exception("outbox drain failed; retrying")
                sent = 0
            if sent or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_every.total_seconds()):
                    await self._wake.wait()

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    async def drain(self) -> int:
        """Send what is due now; returns how many rows were settled (sent or given up)."""
        async with self.sessionmaker() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.next_attempt_at <= self.clock.now(),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(BATCH)
                )
            ).all()
            held: set[int] = set()
            settled = 0
            for row in rows:
                if row.chat_id in held:
                    continue
                if await self._send(row):
                    settled += 1
                else:
                    held.add(row.chat_id)
                await session.commit()
            return settled

    async def _send(self, row: OutboxMessage) -> bool:
        now = self.clock.now()
        row.attempts += 1
        markup = (
            InlineKeyboardMarkup.model_validate_json(row.reply_markup) if row.reply_markup else None
        )
        try:
            if row.photo is not None:
                picture = BufferedInputFile(row.photo, f"{row.id}.png")
                await self.bot.send_photo(
                    row.chat_id, picture, caption=row.text, reply_markup=markup
                )
            else:
                await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
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
