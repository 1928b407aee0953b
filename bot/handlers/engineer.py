"""Engineers: their queue, duty, and the job buttons (accept, on site, resolve with a report)."""

from concurrent.futures import Executor

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.dispatch.queues import engineer_queue
from bot.domain.enums import Role
from bot.domain.ticket_flow import Action, NotAllowed
from bot.filters import IMAGE_FILE, PHOTO, RoleIs
from bot.handlers.knowledge import suggestions_text
from bot.handlers.media import labelled_device
from bot.handlers.replies import set_buttons
from bot.handlers.scanning import offer_binding
from bot.i18n import Translator
from bot.keyboards import (
    AttachCb,
    BindCb,
    TicketCb,
    ticket_keyboard,
)
from bot.models import Asset, AttachmentKind, Staff
from bot.notify.render import ticket_params
from bot.services.knowledge import KnowledgeService
from bot.services.tickets import TicketService, engineer_buttons
from bot.unit_of_work import UnitOfWork


async def show_queue(message: Message, session: AsyncSession, staff: Staff, t: Translator) -> None:
    queue = await engineer_queue(session, staff.id)
    if not queue:
        await message.answer(t("queue.empty"))
        return
    lines = [t("queue.header", count=len(queue))]
    for index, ticket in enumerate(queue, start=1):
        params = {
            "index": index,
            "number": ticket.number,
            "status": ticket.status,
            "urgency": ticket.urgency,
            "department": ticket.department.name,
            "description": ticket.description[:80],
            "priority": ticket.department.priority,
        }
        lines.append(t("queue.item", **ticket_params(t, params)))
    await message.answer("\n".join(lines))


async def toggle_duty(
    message: Message,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    uow: UnitOfWork,
) -> None:
    outcome = await tickets.set_duty(staff, not staff.on_duty)
    await uow.commit(outcome.notices)
    await message.answer(t("duty.on" if staff.on_duty else "duty.off"))


async def job_step(
    callback: CallbackQuery,
    callback_data: TicketCb,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    knowledge: KnowledgeService,
    uow: UnitOfWork,
) -> None:
    outcome = await tickets.act(staff, callback_data.ticket_id, callback_data.action)
    ticket = outcome.ticket
    assert ticket is not None
    found = []
    if callback_data.action is Action.ACCEPT:
        found = await knowledge.suggest(
            text=ticket.description,
            model=ticket.asset.model if ticket.asset else None,
            asset_type=ticket.device_type,
        )
        await knowledge.record_suggested([s.article.id for s in found])
    await uow.commit(outcome.notices)
    await callback.answer(t(f"toast.{callback_data.action.value}", number=ticket.id))
    await set_buttons(callback, ticket_keyboard(t, ticket.id, engineer_buttons(ticket, staff.id)))
    if found and isinstance(callback.message, Message):
        await callback.message.answer(suggestions_text(t, ticket.number, found))


async def bind_from_photo(
    message: Message,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    uow: UnitOfWork,
    bot: Bot,
    cpu: Executor,
    settings: Settings,
) -> None:
    """On site, a photo of the device's label names the device of the job in hand."""
    asset = await labelled_device(message, session, t, bot, cpu)
    if asset is not None:
        await offer_binding(message, staff, t, tickets, uow, asset, settings.tz)


async def bind_picked(
    callback: CallbackQuery,
    callback_data: BindCb,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    uow: UnitOfWork,
) -> None:
    asset = await session.get(Asset, callback_data.asset_id)
    if asset is None:
        await callback.answer(t("error.stale_button"), show_alert=True)
        return
    outcome = await tickets.bind_asset(staff, callback_data.ticket_id, asset)
    await uow.commit(outcome.notices)
    await callback.answer(t("scan.bound", number=callback_data.ticket_id, asset=asset.code))
    await set_buttons(callback, None)


async def show_attachments(
    callback: CallbackQuery,
    callback_data: AttachCb,
    bot: Bot,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
) -> None:
    """The reporter's photos and voice messages, re-sent by file id to the engineer on the job."""
    ticket = await tickets.get(callback_data.ticket_id)
    if staff.id not in {ticket.assignee_id, *ticket.helper_ids}:
        raise NotAllowed(ticket.number, action="attachments")
    await callback.answer()
    caption = t("scan.attachment", number=ticket.number)
    for item in await tickets.attachments(ticket.id):
        if item.kind is AttachmentKind.PHOTO:
            await bot.send_photo(staff.telegram_id, item.file_id, caption=caption)
        else:
            await bot.send_voice(staff.telegram_id, item.file_id, caption=caption)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.ENGINEER))
    router.callback_query.filter(RoleIs(Role.ENGINEER))
    router.message.register(show_queue, Command("queue"))
    router.message.register(toggle_duty, Command("duty"))
    router.callback_query.register(
        job_step, TicketCb.filter(F.action.in_({Action.ACCEPT, Action.ARRIVE}))
    )
    router.message.register(bind_from_photo, PHOTO)
    router.message.register(bind_from_photo, IMAGE_FILE)
    router.callback_query.register(bind_picked, BindCb.filter())
    router.callback_query.register(show_attachments, AttachCb.filter())
    return router
