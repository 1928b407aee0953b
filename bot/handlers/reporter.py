"""Ward users: report a fault by text, follow it with /my, confirm or reopen the fix."""

from concurrent.futures import Executor

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, StateFilter, or_f
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import Role
from bot.domain.ticket_flow import Action
from bot.filters import IMAGE_FILE, PHOTO, TEXT, OnLoop, RoleIs
from bot.handlers import voice
from bot.handlers.common import has_nul, keep_draft
from bot.handlers.media import picture_file, read_picture
from bot.handlers.replies import set_buttons
from bot.handlers.scanning import (
    PHOTO_KEY,
    ReportFor,
    ask_description,
    offer_report,
    photo_attachments,
)
from bot.i18n import Translator
from bot.keyboards import AssetCb, TicketCb, UrgencyCb
from bot.middlewares import READS_SENDER
from bot.models import Asset, Staff
from bot.notify.render import ticket_params
from bot.services.assets import asset_from_scans
from bot.services.intake import Intake, ReportRequest
from bot.services.tickets import TicketService
from bot.unit_of_work import UnitOfWork

MAX_DESCRIPTION = 2000
REPORTER_ACTIONS = {Action.CONFIRM, Action.REOPEN, Action.CANCEL}


async def my_tickets(message: Message, staff: Staff, t: Translator, tickets: TicketService) -> None:
    rows = await tickets.open_tickets_of(staff)
    if not rows:
        await message.answer(t("my.empty"))
        return
    lines = [t("my.header")]
    windows = await tickets.forecast.windows() if tickets.forecast else {}
    for ticket, position in rows:
        params = {
            "number": ticket.number,
            "status": ticket.status,
            "urgency": ticket.urgency,
            "engineer": ticket.assignee.name if ticket.assignee else None,
            "description": ticket.description[:80],
            "position": position,
            "eta": windows.get(ticket.id),
        }
        lines.append(t("my.item", **ticket_params(t, params)).rstrip())
    await message.answer("\n".join(lines))


async def report_text(
    message: Message,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    state: FSMContext,
    intake: Intake,
    uow: UnitOfWork,
) -> None:
    text = (message.text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        await message.answer(t("error.too_long", limit=MAX_DESCRIPTION))
        return
    if staff.department is None:
        await keep_draft(message, session, state, t, text)
        return
    await file_report(intake, uow, staff, text)


async def file_report(
    intake: Intake,
    uow: UnitOfWork,
    staff: Staff,
    description: str,
    asset: Asset | None = None,
    photo_file_id: str | None = None,
) -> None:
    """Hand the report to the intake, which files it with the others arriving meanwhile."""
    request = ReportRequest(
        staff.id,
        description,
        asset_id=asset.id if asset else None,
        attachments=tuple(photo_attachments(photo_file_id)),
        update_id=await uow.hand_over(),
    )
    await intake.file(request)


async def ticket_action(
    callback: CallbackQuery,
    callback_data: TicketCb,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    uow: UnitOfWork,
) -> None:
    outcome = await tickets.act(staff, callback_data.ticket_id, callback_data.action)
    await uow.commit(outcome.notices)
    await callback.answer(t(f"toast.{callback_data.action.value}", number=callback_data.ticket_id))
    await set_buttons(callback, None)


async def urgency_picked(
    callback: CallbackQuery,
    callback_data: UrgencyCb,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    uow: UnitOfWork,
) -> None:
    outcome = await tickets.set_urgency(staff, callback_data.ticket_id, callback_data.urgency)
    await uow.commit(outcome.notices)
    await callback.answer(
        t("toast.urgency", number=callback_data.ticket_id, urgency=callback_data.urgency)
    )


async def describe_device(
    message: Message,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    state: FSMContext,
    intake: Intake,
    uow: UnitOfWork,
) -> None:
    """The fault of the device a label scan picked, in words (or a photo's caption)."""
    data = await state.get_data()
    asset = await session.get(Asset, data["asset_id"])
    photo = picture_file(message)
    photo_id = photo[0] if photo else data.get(PHOTO_KEY)
    text = message.text if message.text is not None else message.caption
    description = (text or "").strip() or t("scan.photo_only")
    if len(description) > MAX_DESCRIPTION:
        await message.answer(t("error.too_long", limit=MAX_DESCRIPTION))
        return
    await file_report(intake, uow, staff, description, asset, photo_id)
    await state.clear()


async def report_photo(
    message: Message,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    state: FSMContext,
    tickets: TicketService,
    intake: Intake,
    uow: UnitOfWork,
    bot: Bot,
    cpu: Executor,
) -> None:
    """A photo is a report: of the labelled device when its QR names one, else of the ward."""
    picture = await read_picture(message, bot, cpu)
    asset, code = await asset_from_scans(session, picture.codes)
    caption = (message.caption or "").strip()
    if asset is not None:
        open_ticket = await tickets.open_ticket_for(asset)
        if open_ticket is not None or not caption:
            await offer_report(message, state, t, tickets, asset, picture.file_id, open_ticket)
            return
        await file_report(intake, uow, staff, caption, asset, picture.file_id)
        return
    description = caption or t("scan.photo_only")
    if code is not None:
        await message.answer(t("scan.unknown", code=code))
        description = f"{description}\n{t('scan.unknown_code_note', code=code)}"
    if staff.department is None:
        await keep_draft(message, session, state, t, description, picture.file_id)
        return
    await file_report(intake, uow, staff, description, photo_file_id=picture.file_id)


async def new_report_for_device(
    callback: CallbackQuery,
    callback_data: AssetCb,
    session: AsyncSession,
    t: Translator,
    state: FSMContext,
    tickets: TicketService,
) -> None:
    asset = await session.get(Asset, callback_data.asset_id)
    if asset is None:
        await callback.answer(t("error.stale_button"), show_alert=True)
        return
    await callback.answer()
    await set_buttons(callback, None)
    if isinstance(callback.message, Message):
        photo = (await state.get_data()).get(PHOTO_KEY)
        await ask_description(callback.message, state, t, tickets, asset, photo)


def register_plain_report(dispatcher: Dispatcher) -> None:
    """A ward user's text with no form open, the commonest update, on the dispatcher's own
    observer: it meets its handler after four checks, ahead of every router, instead of
    crossing two (`bench/intake.py`: +7 % reports/s, in a paired A/B). It is what the routers
    below would do with it: the commands' router takes only commands and texts with a NUL, and
    the ward users' router gives a text its report unless a description or a voice note's
    correction is open."""
    dispatcher.message.register(
        report_text,
        TEXT,
        OnLoop(lambda m: not has_nul(m)),
        StateFilter(None),
        RoleIs(Role.REPORTER),
        flags=READS_SENDER,
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.REPORTER))
    router.callback_query.filter(RoleIs(Role.REPORTER))
    voice.register(router)
    # A text with no form open was taken at the dispatcher (`register_plain_report`); one with
    # a form open meets its handler here, or its report if it is another form's.
    describing = StateFilter(ReportFor.describing)
    router.message.register(describe_device, describing, or_f(TEXT, PHOTO, IMAGE_FILE))
    router.message.register(report_text, TEXT, flags=READS_SENDER)
    router.message.register(my_tickets, Command("my"))
    router.message.register(report_photo, PHOTO)
    router.message.register(report_photo, IMAGE_FILE)
    router.callback_query.register(new_report_for_device, AssetCb.filter())
    router.callback_query.register(ticket_action, TicketCb.filter(F.action.in_(REPORTER_ACTIONS)))
    router.callback_query.register(urgency_picked, UrgencyCb.filter())
    return router
