"""/language for everyone, strangers included: pick one and every answer, notice and the
dashboard follow it."""

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.handlers.common import ask_department
from bot.handlers.replies import set_text
from bot.i18n import Translator
from bot.keyboards import LanguageCb, language_keyboard
from bot.services.staff import set_language
from bot.unit_of_work import UnitOfWork


async def choose(message: Message, t: Translator) -> None:
    await message.answer(t("language.choose"), reply_markup=language_keyboard())


async def picked(
    callback: CallbackQuery,
    callback_data: LanguageCb,
    session: AsyncSession,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    user = callback.from_user
    staff, new = await set_language(session, clock, user.id, user.full_name, callback_data.language)
    await uow.commit()
    t = Translator(staff.language)
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    await set_text(callback.message, t("language.changed"))
    if new:
        await callback.message.answer(t("start.welcome_new", name=staff.name))
        await ask_department(callback.message, session, t)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(choose, Command("language"))
    router.callback_query.register(picked, LanguageCb.filter())
    return router
