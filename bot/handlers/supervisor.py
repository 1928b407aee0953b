"""Supervisors and admins: what is overdue, and who is on duty."""

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.enums import Role
from bot.filters import RoleIs
from bot.i18n import Translator
from bot.keyboards import DutyCb, engineers_keyboard
from bot.models import Staff
from bot.notify.render import ticket_params
from bot.services.sla import SlaService
from bot.services.tickets import TicketService
from bot.sla.policy import SlaPolicy
from bot.unit_of_work import UnitOfWork


async def show_overdue(
    message: Message, session: AsyncSession, clock: Clock, policy: SlaPolicy, t: Translator
) -> None:
    sla = SlaService(session, clock, policy)
    late = await sla.overdue()
    if not late:
        await message.answer(t("supervise.overdue_none"))
        return
    lines = [t("supervise.overdue_header", count=len(late))]
    for ticket, running in late:
        lines.append(
            t("supervise.overdue_item", **ticket_params(t, sla.late_params(ticket, running)))
        )
    await message.answer("\n".join(lines))


async def _engineers_view(
    t: Translator, tickets: TicketService
) -> tuple[str, InlineKeyboardMarkup]:
    engineers = await tickets.engineers()
    lines = [t("supervise.engineers_header")]
    for staff, queue in engineers:
        mark = t("supervise.on_mark" if staff.on_duty else "supervise.off_mark")
        zones = ", ".join(sorted(staff.zone_names)) or "-"
        lines.append(
            t("supervise.engineer_item", mark=mark, name=staff.name, zones=zones, queue=queue)
        )
    keyboard = engineers_keyboard(t, [(s.id, s.name, s.on_duty) for s, _ in engineers])
    return "\n".join(lines), keyboard


async def show_engineers(message: Message, t: Translator, tickets: TicketService) -> None:
    text, keyboard = await _engineers_view(t, tickets)
    await message.answer(text, reply_markup=keyboard)


async def switch_duty(
    callback: CallbackQuery,
    callback_data: DutyCb,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    uow: UnitOfWork,
) -> None:
    outcome = await tickets.set_duty_by(staff, callback_data.staff_id, callback_data.on)
    await uow.commit(outcome.notices)
    engineer = outcome.notices[0].recipient
    state = t("supervise.state_on" if callback_data.on else "supervise.state_off")
    await callback.answer(t("supervise.toggled", name=engineer.name, state=state))
    if isinstance(callback.message, Message):
        text, keyboard = await _engineers_view(t, tickets)
        await callback.message.edit_text(text, reply_markup=keyboard)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.SUPERVISOR, Role.ADMIN))
    router.callback_query.filter(RoleIs(Role.SUPERVISOR, Role.ADMIN))
    router.message.register(show_overdue, Command("overdue"))
    router.message.register(show_engineers, Command("engineers"))
    router.callback_query.register(switch_duty, DutyCb.filter())
    return router
