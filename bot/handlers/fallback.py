"""Last stop: whatever no role router took gets a polite answer and changes nothing."""

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.domain.enums import Role
from bot.domain.ticket_flow import DomainError, IllegalTransition
from bot.filters import ANY_TEXT, COMMAND
from bot.i18n import Translator
from bot.keyboards import KNOWN_PREFIXES
from bot.models import Staff

log = logging.getLogger(__name__)


async def unknown_command(message: Message, staff: Staff | None, t: Translator) -> None:
    await message.answer(t("error.not_registered" if staff is None else "error.unknown_command"))


async def text_from_wrong_role(message: Message, staff: Staff | None, t: Translator) -> None:
    if staff is None:
        key = "error.not_registered"
    elif staff.role is Role.ENGINEER:
        key = "error.engineer_text"
    else:
        key = "error.manager_text"
    await message.answer(t(key))


async def unsupported(message: Message, staff: Staff | None, t: Translator) -> None:
    await message.answer(
        t("error.not_registered" if staff is None else "error.unsupported_content")
    )


async def stray_button(callback: CallbackQuery, staff: Staff | None, t: Translator) -> None:
    """Buttons meant for another role, forged data, or layouts from an older version."""
    if staff is None:
        key = "error.not_registered"
    elif callback.data and callback.data.split(":")[0] in KNOWN_PREFIXES:
        key = "error.not_allowed"
    else:
        key = "error.stale_button"
    await callback.answer(t(key), show_alert=True)


async def _reply(event: ErrorEvent, text: str) -> None:
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.message is not None:
        await update.message.answer(text)


async def domain_error(event: ErrorEvent, t: Translator) -> None:
    error = event.exception
    assert isinstance(error, DomainError)
    params: dict[str, object] = {"number": error.ticket_number, **error.details}
    if isinstance(error, IllegalTransition):
        params["status"] = error.status
    await _reply(event, t(f"error.{error.code}", **params))


async def unexpected_error(event: ErrorEvent, t: Translator | None = None) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    await _reply(event, (t or Translator("ko"))("error.internal"))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(unknown_command, COMMAND)
    router.message.register(text_from_wrong_role, ANY_TEXT)
    router.message.register(unsupported)
    router.callback_query.register(stray_button)
    router.errors.register(domain_error, ExceptionTypeFilter(DomainError))
    router.errors.register(unexpected_error)
    return router
