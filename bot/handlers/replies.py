"""Small rendering helpers shared by the role routers."""

import contextlib

from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain.enums import Role
from bot.i18n import Translator
from bot.models import Staff

HELP_KEYS = {
    Role.REPORTER: "help.reporter",
    Role.ENGINEER: "help.engineer",
    Role.SUPERVISOR: "help.supervisor",
    Role.ADMIN: "help.admin",
}


def help_text(t: Translator, staff: Staff) -> str:
    return t(HELP_KEYS[staff.role])


async def set_text(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Rewrite a message under a pressed button; a double tap leaves it unchanged, which
    Telegram refuses ("message is not modified"), and that must not turn into an error."""
    with contextlib.suppress(TelegramAPIError):
        await message.edit_text(text, reply_markup=markup)


async def set_buttons(callback: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    """Swap the pressed message's buttons; a failure here must not undo the action itself."""
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramAPIError):
            await callback.message.edit_reply_markup(reply_markup=markup)
