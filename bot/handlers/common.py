"""Commands for everyone, strangers included: /start, /help, /language (every answer, notice
and the dashboard follow the choice) and choosing a department."""

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.domain.deeplinks import asset_code_from_payload
from bot.domain.enums import Role
from bot.domain.invites import PREFIX as INVITE_PREFIX
from bot.domain.invites import BadInvite, read_invite
from bot.filters import OnLoop
from bot.handlers.fallback import unsupported
from bot.handlers.replies import help_text, set_text
from bot.handlers.scanning import PHOTO_KEY, offer_binding, offer_report, photo_attachments
from bot.i18n import Translator
from bot.keyboards import DeptAction, DeptCb, LanguageCb, departments_keyboard, language_keyboard
from bot.models import Staff
from bot.services.assets import asset_by_code
from bot.services.audit import join_by_invite
from bot.services.staff import departments_page, register_reporter, set_department, set_language
from bot.services.tickets import TicketService
from bot.unit_of_work import UnitOfWork

PAGE_SIZE = 10
DRAFT_KEY = "draft"


async def ask_department(
    message: Message, session: AsyncSession, t: Translator, page: int = 0, *, edit: bool = False
) -> None:
    departments, pages = await departments_page(session, page, PAGE_SIZE)
    if not departments:
        await message.answer(t("error.needs_department") + "\n" + t("start.no_departments"))
        return
    text = t("start.pick_department", page=page + 1, pages=pages)
    markup = departments_keyboard(t, departments, page, pages)
    if edit:
        await set_text(message, text, markup)
    else:
        await message.answer(text, reply_markup=markup)


async def keep_draft(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    t: Translator,
    description: str,
    photo_file_id: str | None = None,
) -> None:
    """A report from someone with no department yet waits until they pick one."""
    await state.update_data({DRAFT_KEY: description, PHOTO_KEY: photo_file_id})
    await message.answer(t("start.draft_kept"))
    await ask_department(message, session, t)


async def start_from_label(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    uow: UnitOfWork,
    clock: Clock,
    staff: Staff | None,
    t: Translator,
    state: FSMContext,
    tickets: TicketService,
    settings: Settings,
) -> None:
    """A phone camera opened a label's deep link: straight to that device's report."""
    assert message.from_user is not None
    if (command.args or "").startswith(INVITE_PREFIX):
        await join_as_engineer(message, command.args or "", session, uow, clock, staff, t, settings)
        return
    code = asset_code_from_payload(command.args or "")
    asset = await asset_by_code(session, code) if code else None
    if staff is None:
        staff = await register_reporter(
            session, clock, message.from_user.id, message.from_user.full_name, t.language
        )
        staff.department = asset.department if asset else None
        await uow.commit()
        await message.answer(t("start.welcome_new", name=staff.name))
    if asset is None:
        await message.answer(t("scan.bad_link") if code is None else t("scan.unknown", code=code))
        if staff.department is None:
            await ask_department(message, session, t)
    elif staff.role is Role.ENGINEER:
        await offer_binding(message, staff, t, tickets, uow, asset, settings.tz)
    else:
        await offer_report(message, state, t, tickets, asset)


async def join_as_engineer(
    message: Message,
    payload: str,
    session: AsyncSession,
    uow: UnitOfWork,
    clock: Clock,
    staff: Staff | None,
    t: Translator,
    settings: Settings,
) -> None:
    """An admin's invite link: the person who opens it becomes an engineer of its zones."""
    assert message.from_user is not None
    try:
        invite = read_invite(settings.link_secret(), payload, clock.now())
    except BadInvite:
        await message.answer(t("admin.invite_invalid"))
        return
    if staff is None:
        staff = await register_reporter(
            session, clock, message.from_user.id, message.from_user.full_name, t.language
        )
    await join_by_invite(session, clock, staff, invite)
    await uow.commit()
    await message.answer(t("admin.invite_welcome", name=staff.name, zones=", ".join(invite.zones)))


async def start(
    message: Message,
    session: AsyncSession,
    uow: UnitOfWork,
    clock: Clock,
    staff: Staff | None,
    t: Translator,
) -> None:
    assert message.from_user is not None
    if staff is None:
        staff = await register_reporter(
            session, clock, message.from_user.id, message.from_user.full_name, t.language
        )
        await uow.commit()
        await message.answer(t("start.welcome_new", name=staff.name))
        await ask_department(message, session, t)
    elif staff.role is Role.REPORTER and staff.department is None:
        await ask_department(message, session, t)
    else:
        await message.answer(help_text(t, staff))


async def help_(message: Message, staff: Staff | None, t: Translator) -> None:
    await message.answer(t("error.not_registered") if staff is None else help_text(t, staff))


async def change_department(
    message: Message, session: AsyncSession, staff: Staff | None, t: Translator
) -> None:
    if staff is None:
        await message.answer(t("error.not_registered"))
        return
    await ask_department(message, session, t)


async def department_page(
    callback: CallbackQuery,
    callback_data: DeptCb,
    session: AsyncSession,
    staff: Staff | None,
    t: Translator,
) -> None:
    if staff is None:  # /start registers before it shows the list: this button is forged
        await callback.answer(t("error.not_registered"), show_alert=True)
        return
    if isinstance(callback.message, Message):
        await ask_department(callback.message, session, t, callback_data.value, edit=True)
    await callback.answer()


async def department_picked(
    callback: CallbackQuery,
    callback_data: DeptCb,
    session: AsyncSession,
    staff: Staff | None,
    t: Translator,
    state: FSMContext,
    tickets: TicketService,
    uow: UnitOfWork,
) -> None:
    if staff is None:
        await callback.answer(t("error.not_registered"), show_alert=True)
        return
    try:
        department = await set_department(session, staff, callback_data.value)
    except LookupError:
        await callback.answer(t("error.stale_button"), show_alert=True)
        return
    data = await state.get_data()
    draft, photo = data.get(DRAFT_KEY), data.get(PHOTO_KEY)
    if draft and staff.role is Role.REPORTER:
        outcome = await tickets.report(staff, draft, attachments=photo_attachments(photo))
        await uow.commit(outcome.notices)
    else:
        await uow.commit()
    await state.update_data({DRAFT_KEY: None, PHOTO_KEY: None})
    await callback.answer()
    if isinstance(callback.message, Message):
        await set_text(callback.message, t("start.department_set", department=department.name))


# --- /language ----------------------------------------------------------------------------


async def choose_language(message: Message, t: Translator) -> None:
    await message.answer(t("language.choose"), reply_markup=language_keyboard())


async def language_picked(
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


def has_nul(message: Message) -> bool:
    """No Telegram client types U+0000, and PostgreSQL cannot store it in text."""
    return "\x00" in (message.text or message.caption or "")


def build_router() -> Router:
    router = Router(name=__name__)
    # Every message here is a command (aiogram reads one in a caption too) or has a NUL: a
    # plain text, most of what wards send, passes by after one check instead of one a handler.
    router.message.filter(
        OnLoop(lambda m: (m.text or m.caption or "").startswith("/") or has_nul(m))
    )
    router.message.register(unsupported, OnLoop(has_nul))  # first: whatever the role or form step
    router.message.register(start_from_label, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(change_department, Command("department"))
    router.message.register(choose_language, Command("language"))
    router.callback_query.register(department_page, DeptCb.filter(F.action == DeptAction.PAGE))
    router.callback_query.register(department_picked, DeptCb.filter(F.action == DeptAction.PICK))
    router.callback_query.register(language_picked, LanguageCb.filter())
    return router
