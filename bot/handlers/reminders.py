"""Answers to SLA reminders, from any IT staff member a reminder can reach (a supervisor who
lent a spare gets that loan's reminders); the service checks it was this one."""

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.filters import RoleIs
from bot.handlers.replies import set_buttons
from bot.handlers.spares import IT_STAFF
from bot.i18n import Translator
from bot.keyboards import ReminderCb
from bot.models import Staff
from bot.services.reminders import answer_reminder
from bot.services.tickets import TicketService
from bot.unit_of_work import UnitOfWork


async def reminder_answer(
    callback: CallbackQuery,
    callback_data: ReminderCb,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    uow: UnitOfWork,
) -> None:
    answer = callback_data.action.value
    await answer_reminder(tickets, staff, callback_data.ticket_id, callback_data.stage, answer)
    await uow.commit()
    await callback.answer(t(f"toast.{answer}", number=callback_data.ticket_id))
    await set_buttons(callback, None)


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(RoleIs(*IT_STAFF))
    router.callback_query.register(reminder_answer, ReminderCb.filter())
    return router
