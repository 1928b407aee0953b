"""Telegram's flood limits as one clock for everything a process sends: at most `overall_rate`
messages a second in all and `per_chat_rate` to one chat. The outbox sender and the handlers'
replies take their turns from the same Pacer, so a reply right after a notice to the same chat
waits for its second instead of meeting a 429."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)
PACED_METHODS = ("send", "edit", "copy", "forward")
"""Method names that put something in a chat, which is what Telegram's limits count (not
answerCallbackQuery, getUpdates...)."""


class Pacer:
    """Turns to send: one clock per process, shared by the outbox sender and the replies."""

    def __init__(self, overall_rate: float, per_chat_rate: float) -> None:
        if overall_rate <= 0 or per_chat_rate <= 0:
            raise ValueError("rates must be positive")
        self.overall_rate = overall_rate
        self.per_chat_rate = per_chat_rate
        self._next_slot = 0.0  # event-loop time from which the next send may start
        self._chat_ready: dict[int, float] = {}  # chat -> loop time of its next allowed send
        self._holders: dict[int, tuple[asyncio.Lock, int]] = {}  # chat -> lock, sends at it

    def ready_in(self, chat_id: int) -> float:
        """Seconds until `chat_id` may receive, without waiting; a send in flight (or waiting)
        counts as a full gap, since the next turn runs from its answer."""
        if chat_id in self._holders:
            return 1 / self.per_chat_rate
        now = asyncio.get_running_loop().time()
        return max(0.0, self._chat_ready.get(chat_id, now) - now)

    def defer(self, chat_id: int, seconds: float) -> None:
        """Telegram asked for a pause with this chat (a 429): nobody sends to it before."""
        until = asyncio.get_running_loop().time() + seconds
        self._chat_ready[chat_id] = max(self._chat_ready.get(chat_id, until), until)

    async def turn(self) -> None:
        """Wait for the next send slot under the overall rate and take it. Slots are taken at
        the moment of sending, not booked ahead, so a late wake-up (a busy event loop) cannot
        release a burst of sends that were due meanwhile."""
        loop = asyncio.get_running_loop()
        interval = 1 / self.overall_rate
        while (wait := self._next_slot - loop.time()) > 0:
            await asyncio.sleep(wait)
        # A wake-up a little late keeps its slot (the rate does not drift below the limit);
        # a long-delayed one starts afresh.
        self._next_slot = max(self._next_slot, loop.time() - interval / 4) + interval

    @contextlib.asynccontextmanager
    async def chat(self, chat_id: int) -> AsyncIterator[None]:
        """Hold `chat_id` for one send, once its turn has come; its next turn counts from the
        answer, not the request, so network jitter cannot bunch two up."""
        loop = asyncio.get_running_loop()
        lock, users = self._holders.get(chat_id, (asyncio.Lock(), 0))
        self._holders[chat_id] = lock, users + 1
        try:
            async with lock:
                while (wait := self._chat_ready.get(chat_id, 0.0) - loop.time()) > 0:
                    await asyncio.sleep(wait)
                try:
                    yield
                finally:
                    now = loop.time()
                    self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}
                    self._chat_ready[chat_id] = now + 1 / self.per_chat_rate
        finally:
            lock, users = self._holders[chat_id]
            if users > 1:
                self._holders[chat_id] = lock, users - 1
            else:
                del self._holders[chat_id]


class PacedRequests(BaseRequestMiddleware):
    """On the handlers' bot: a request that puts something in a chat waits for that chat's
    turn and a slot; one met with a 429 anyway (another replica, a limit we do not know) waits
    `retry_after` and goes again, up to RETRIES times, instead of failing the handler."""

    RETRIES = 2
    MAX_WAIT = 30
    """Seconds; a longer pause asked for fails the request rather than hold the user's turn."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if not isinstance(chat_id, int) or not method.__api_method__.startswith(PACED_METHODS):
            return await make_request(bot, method)
        retries = self.RETRIES
        while True:
            try:
                async with self.pacer.chat(chat_id):
                    await self.pacer.turn()
                    return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if not retries or exc.retry_after > self.MAX_WAIT:
                    raise
                retries -= 1
                log.info("%s got a 429; again in %ss", method.__api_method__, exc.retry_after)
                self.pacer.defer(chat_id, exc.retry_after)
