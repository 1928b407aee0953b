"""Middlewares that each add one thing to the handler's data: the unit of work, the staff member
and their translator."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.i18n import Translator, pick_language
from bot.notify.outbox import Outbox, OutboxSender
from bot.services.staff import staff_by_telegram_id
from bot.services.tickets import TicketService

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UnitOfWorkMiddleware(BaseMiddleware):
    """One session, outbox and ticket service per update: committed when the handler succeeds,
    else rolled back. The outbox sender is woken after the commit so replies go out at once."""

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
        async with self.sessionmaker() as session:
            outbox = Outbox(session, self.clock)
            data["session"] = session
            data["outbox"] = outbox
            data["tickets"] = TicketService(session, self.clock)
            try:
                result = await handler(event, data)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        if outbox.added:
            self.sender.wake()
        return result


class StaffMiddleware(BaseMiddleware):
    """The staff record of whoever sent the update (None for strangers) and a translator."""

    def __init__(self, default_language: str) -> None:
        self.default_language = default_language

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        staff = None if user is None else await staff_by_telegram_id(data["session"], user.id)
        language = pick_language(
            staff.language if staff else None,
            user.language_code if user else None,
            self.default_language,
        )
        data["staff"] = staff
        data["t"] = Translator(language)
        return await handler(event, data)
