"""Supervisors and admins: what is overdue, and who is on duty."""

import asyncio
from concurrent.futures import Executor
from datetime import date

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.dispatch.queues import engineers_with_queue
from bot.domain.enums import Role
from bot.filters import RoleIs
from bot.handlers.replies import set_text
from bot.i18n import Translator
from bot.keyboards import DutyCb, engineers_keyboard
from bot.models import Staff
from bot.notify.daily import chart_of, summary_text
from bot.notify.render import ticket_params
from bot.services.sla import SlaService
from bot.services.summary import day_summary
from bot.services.tickets import TicketService
from bot.sla.policy import SlaPolicy
from bot.unit_of_work import UnitOfWork
from bot.web.links import sign

FIRST_DAY = date(2000, 1, 1)
"""The earliest day /summary reports; later than today there is nothing to count."""


async def show_overdue(
    message: Message, session: AsyncSession, clock: Clock, policy: SlaPolicy, t: Translator
) -> None:
    sla = SlaService(session, clock, policy)
    late = await sla.overdue()
    if not late:
        await message.answer(t("supervise.overdue_none"))
        return
    lines = [t("supervise.overdue_header", count=len(late))]
    for item in late:
        lines.append(t("supervise.overdue_item", **ticket_params(t, sla.late_params(item))))
    await message.answer("\n".join(lines))


async def _engineers_view(
    t: Translator, tickets: TicketService
) -> tuple[str, InlineKeyboardMarkup]:
    engineers = await engineers_with_queue(tickets.session)
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
    engineer = await tickets.session.get(Staff, callback_data.staff_id)
    # A double tap finds the engineer switched already: nothing changes, nobody is told again.
    if (
        engineer is None
        or engineer.role is not Role.ENGINEER
        or engineer.on_duty != callback_data.on
    ):
        outcome = await tickets.set_duty_by(staff, callback_data.staff_id, callback_data.on)
        await uow.commit(outcome.notices)
        engineer = outcome.notices[0].recipient
    state = t("supervise.state_on" if callback_data.on else "supervise.state_off")
    await callback.answer(t("supervise.toggled", name=engineer.name, state=state))
    if isinstance(callback.message, Message):
        text, keyboard = await _engineers_view(t, tickets)
        await set_text(callback.message, text, keyboard)


async def show_summary(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    policy: SlaPolicy,
    settings: Settings,
    cpu: Executor,
    t: Translator,
) -> None:
    """Today's (or the given day's) numbers, then the 14-day chart drawn off the event loop."""
    today = clock.now().astimezone(settings.tz).date()
    try:
        day = date.fromisoformat(command.args.strip()) if command.args else today
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= today:  # also keeps the 14-day chart in range
        await message.answer(t("summary.bad_date"))
        return
    summary = await day_summary(session, day, settings.tz)
    overdue = len(await SlaService(session, clock, policy).overdue()) if day == today else 0
    await message.answer(summary_text(t, summary, overdue))
    chart = await asyncio.get_running_loop().run_in_executor(cpu, chart_of(t, summary))
    await message.answer_photo(BufferedInputFile(chart, f"summary-{day.isoformat()}.png"))


async def dashboard_link(
    message: Message, staff: Staff, t: Translator, settings: Settings, clock: Clock, web_url: str
) -> None:
    """A personal, expiring link to the big screen (the link is the credential)."""
    ttl = settings.dashboard_link_ttl
    token = sign(settings.link_secret(), staff.id, clock.now(), ttl)
    hours = round(ttl.total_seconds() / 3600, 1)
    await message.answer(
        t("supervise.dashboard_link", hours=f"{hours:g}", url=f"{web_url}/dashboard?t={token}")
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.SUPERVISOR, Role.ADMIN))
    router.callback_query.filter(RoleIs(Role.SUPERVISOR, Role.ADMIN))
    router.message.register(show_overdue, Command("overdue"))
    router.message.register(dashboard_link, Command("dashboard"))
    router.message.register(show_engineers, Command("engineers"))
    router.message.register(show_summary, Command("summary"))
    router.callback_query.register(switch_duty, DutyCb.filter())
    return router
