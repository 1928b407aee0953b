"""Middlewares that each add one thing to the handler's data: the unit of work, the staff member
and their translator, the domain services."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramAPIError
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.clock import Clock
from bot.db import opened
from bot.domain.ticket_flow import ConcurrentChange
from bot.flood import FloodCounter, Verdict
from bot.i18n import Translator, pick_language
from bot.notify.outbox import OutboxSender
from bot.services.forecast import Forecast
from bot.services.jobs import JobService
from bot.services.knowledge import KnowledgeService
from bot.services.spares import SpareService
from bot.services.staff import SenderLookup
from bot.services.tickets import TicketService
from bot.services.updates import AlreadyHandled
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdatesInHand(BaseMiddleware):
    """Counts the updates being handled, so that a stop can let them finish: Telegram counts an
    update delivered once the next poll (or the webhook's answer) has gone back, so one cut off
    by the exit would be lost without a word to its sender."""

    def __init__(self) -> None:
        self.count = 0
        self.newest = 0
        """The highest update_id taken in hand so far."""
        self._none = asyncio.Event()
        self._none.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            self.newest = max(self.newest, event.update_id)
        self.count += 1
        self._none.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if not self.count:
                self._none.set()

    async def finished(self, within: float) -> bool:
        """Wait until none is in hand (True) or `within` seconds have passed (False)."""
        await asyncio.sleep(0)  # an update fetched just now starts being handled first
        try:
            async with asyncio.timeout(within):
                while self.count:
                    await self._none.wait()
        except TimeoutError:
            return False
        return True


class FloodGuard(BaseMiddleware):
    """Updates from one user over the counter's limit get one polite "slow down" and are
    dropped, before they cost a database transaction or hold up that user's queue."""

    def __init__(self, counter: FloodCounter, default_language: str) -> None:
        self.counter = counter
        self.default_language = default_language

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        verdict = await self.counter.hit(user.id)
        if verdict is Verdict.PASS:
            return await handler(event, data)
        if verdict is Verdict.WARN:
            t = Translator(pick_language(None, user.language_code, self.default_language))
            with contextlib.suppress(TelegramAPIError):
                await data["bot"].send_message(user.id, t("error.slow_down"))
        log.info("flood from a user: update dropped")
        return None


class PerUserOrderMiddleware(BaseMiddleware):
    """Updates of one user are handled one after another, in arrival order; different users
    still run concurrently. Without this a text can overtake the /start that registers its
    sender, or a double tap can race itself."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        lock = self._locks.setdefault(user.id, asyncio.Lock())
        self._users[user.id] = self._users.get(user.id, 0) + 1
        try:
            async with lock:
                return await handler(event, data)
        finally:
            self._users[user.id] -= 1
            if not self._users[user.id]:
                del self._users[user.id], self._locks[user.id]


class UnitOfWorkMiddleware(BaseMiddleware):
    """One session and unit of work per update: committed when the handler succeeds, else
    rolled back. A handler that lost a race for a ticket is run again on fresh data:
    handlers change data and commit before they reply, so the user was told nothing yet.
    The outbox sender is woken after the commit so notices go out at once."""

    ATTEMPTS = 3

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        sender: OutboxSender,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.sender = sender

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        attempt = 1
        while True:
            try:
                return await self._once(handler, event, data)
            except (ConcurrentChange, StaleDataError) as exc:
                if attempt >= self.ATTEMPTS:
                    raise ConcurrentChange() from exc
                attempt += 1

    async def _once(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with opened(self.sessionmaker) as session:
            update_id = event.update_id if isinstance(event, Update) else None
            uow = UnitOfWork(session, self.clock, update_id)
            data["session"] = session
            data["uow"] = uow
            try:
                result = await handler(event, data)
                await uow.commit()
            except AlreadyHandled:
                await session.rollback()
                log.info("update %s was handled already; skipped", update_id)
                return None
            except BaseException:
                await session.rollback()
                raise
        if uow.has_news:
            self.sender.wake()
        return result


class StaffMiddleware(BaseMiddleware):
    """The staff record of whoever sent the update (None for strangers) and a translator. The
    record is as looked up, for the filters to read; `SenderInSession` hands it to the handler."""

    def __init__(self, lookup: SenderLookup, default_language: str) -> None:
        self.lookup = lookup
        self.default_language = default_language

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        staff = None if user is None else await self.lookup.find(user.id)
        language = pick_language(
            staff.language if staff else None,
            user.language_code if user else None,
            self.default_language,
        )
        data["staff"] = staff
        data["t"] = Translator(language)
        return await handler(event, data)


SERVICES = frozenset({"tickets", "jobs", "spares", "knowledge"})


class ServicesMiddleware(BaseMiddleware):
    """The domain services over the update's session, for a handler that takes them. Inner, so
    built once a handler is chosen and only for one that names them (or takes every keyword):
    a ward user's text report takes none, and building them for it cost ~1 % of
    `bench/intake.py`'s CPU (a paired A/B). Built again on every attempt of the unit of work."""

    def __init__(
        self, clock: Clock, forecasts: Callable[[AsyncSession], Forecast] | None = None
    ) -> None:
        self.clock = clock
        self.forecasts = forecasts

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chosen: HandlerObject = data["handler"]
        if chosen.varkw or not SERVICES.isdisjoint(chosen.params):
            session: AsyncSession = data["session"]
            forecast = self.forecasts(session) if self.forecasts else None
            tickets = TicketService(session, self.clock, forecast)
            data["tickets"] = tickets
            data["jobs"] = JobService(tickets)
            data["spares"] = SpareService(tickets)
            data["knowledge"] = KnowledgeService(session, self.clock)
        return await handler(event, data)


READS_SENDER = {"reads_sender": True}
"""Handler flags: the handler only reads its sender's record (a ward user's text report, which
the intake files in a session of its own), so it gets the record as looked up."""


class SenderInSession(BaseMiddleware):
    """The sender's record merged into the handler's session (no query), so that what the
    handler changes is written and what it links is in one session; a handler flagged
    READS_SENDER skips the merge, which cost a text report ~4 % of `bench/intake.py`'s CPU.
    Inner, on every kind of event: it runs once a handler is chosen, after the filters."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        staff = data.get("staff")
        if staff is not None and not get_flag(data, "reads_sender"):
            data["staff"] = await data["session"].merge(staff, load=False)
        return await handler(event, data)
