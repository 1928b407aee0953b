"""Ward users: report a fault by text, follow it with /my, confirm or reopen the fix."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import Role
from bot.domain.ticket_flow import Action
from bot.filters import RoleIs
from bot.handlers.common import DRAFT_KEY, ask_department
from bot.handlers.replies import set_buttons
from bot.i18n import Translator
from bot.keyboards import TicketCb, UrgencyCb
from bot.models import Staff
from bot.notify.render import ticket_params
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
    for ticket, position in rows:
        params = {
            "number": ticket.number,
            "status": ticket.status,
            "urgency": ticket.urgency,
            "engineer": ticket.assignee.name if ticket.assignee else None,
            "description": ticket.description[:80],
            "position": position,
        }
        lines.append(t("my.item", **ticket_params(t, params)).rstrip())
    await message.answer("\n".join(lines))


async def report_text(
    message: Message,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    state: FSMContext,
    tickets: TicketService,
    uow: UnitOfWork,
) -> None:
    text = (message.text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        await message.answer(t("error.too_long", limit=MAX_DESCRIPTION))
        return
    if staff.department is None:
        await state.update_data({DRAFT_KEY: text})
        await message.answer(t("start.draft_kept"))
        await ask_department(message, session, t)
        return
    await uow.commit((await tickets.report(staff, text)).notices)


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


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.REPORTER))
    router.callback_query.filter(RoleIs(Role.REPORTER))
    router.message.register(my_tickets, Command("my"))
    router.message.register(report_text, F.text, ~F.text.startswith("/"))
    router.callback_query.register(ticket_action, TicketCb.filter(F.action.in_(REPORTER_ACTIONS)))
    router.callback_query.register(urgency_picked, UrgencyCb.filter())
    return router
