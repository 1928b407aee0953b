"""Handing a job to another engineer (with a reason) and inviting a helper."""

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.domain.enums import Role
from bot.domain.ticket_flow import Action, Tool
from bot.filters import RoleIs
from bot.handlers.forms import Form, Step
from bot.handlers.replies import set_buttons
from bot.i18n import Translator
from bot.keyboards import PickCb, PickPurpose, TicketCb, ToolCb, pick_keyboard
from bot.models import Staff, Ticket
from bot.services.jobs import JobService
from bot.services.tickets import TicketService
from bot.unit_of_work import UnitOfWork


class TransferForm(StatesGroup):
    reason = State()


async def _transfer(target: Message, data: dict[str, Any], handler: dict[str, Any]) -> None:
    jobs: JobService = handler["jobs"]
    uow: UnitOfWork = handler["uow"]
    t: Translator = handler["t"]
    outcome = await jobs.transfer(handler["staff"], data["ticket_id"], data["to"], data["reason"])
    await uow.commit(outcome.notices)
    assert outcome.ticket is not None and outcome.ticket.assignee is not None
    await target.answer(
        t("handover.transferred", number=data["ticket_id"], name=outcome.ticket.assignee.name)
    )


TRANSFER = Form([Step("reason", TransferForm.reason, "handover.ask_reason")], _transfer)


async def _offer(
    callback: CallbackQuery, t: Translator, jobs: JobService, purpose: PickPurpose, ticket: Ticket
) -> None:
    rows = [(s.id, s.name, queue) for s, queue in await jobs.colleagues(ticket)]
    if not rows:
        await callback.answer(t("handover.nobody"), show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            t(f"handover.pick_{purpose.value}", number=ticket.number),
            reply_markup=pick_keyboard(t, purpose, ticket.id, rows),
        )


async def start_transfer(
    callback: CallbackQuery,
    callback_data: TicketCb,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    jobs: JobService,
) -> None:
    ticket = await tickets.check(staff, callback_data.ticket_id, Action.TRANSFER)
    await _offer(callback, t, jobs, PickPurpose.TRANSFER, ticket)


async def start_helper(
    callback: CallbackQuery, callback_data: ToolCb, staff: Staff, t: Translator, jobs: JobService
) -> None:
    ticket = await jobs.check_invite(staff, callback_data.ticket_id)
    await _offer(callback, t, jobs, PickPurpose.HELPER, ticket)


async def picked(
    callback: CallbackQuery,
    callback_data: PickCb,
    staff: Staff,
    t: Translator,
    state: FSMContext,
    tickets: TicketService,
    jobs: JobService,
    uow: UnitOfWork,
) -> None:
    """A transfer still needs its reason; a helper joins at once. Both re-checked here."""
    await set_buttons(callback, None)
    if callback_data.purpose is PickPurpose.HELPER:
        outcome = await jobs.invite(staff, callback_data.ticket_id, callback_data.staff_id)
        await uow.commit(outcome.notices)
        await callback.answer(t("handover.helper_added", number=callback_data.ticket_id))
        return
    await tickets.check(staff, callback_data.ticket_id, Action.TRANSFER)
    await TRANSFER.start_from(
        callback,
        state,
        t,
        ticket_id=callback_data.ticket_id,
        to=callback_data.staff_id,
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.ENGINEER))
    router.callback_query.filter(RoleIs(Role.ENGINEER))
    router.callback_query.register(start_transfer, TicketCb.filter(F.action == Action.TRANSFER))
    router.callback_query.register(start_helper, ToolCb.filter(F.tool == Tool.HELPER))
    router.callback_query.register(picked, PickCb.filter())
    TRANSFER.register(router)
    return router
