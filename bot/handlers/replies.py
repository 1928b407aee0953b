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


async def set_buttons(callback: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    """Swap the pressed message's buttons; a failure here must not undo the action itself."""
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramAPIError):
            await callback.message.edit_reply_markup(reply_markup=markup)
