"""Spare devices: lend one to the ward of a job, take it back, and `/spares` for the pool."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.clock import Clock
from bot.domain.enums import Role
from bot.domain.ticket_flow import Tool
from bot.filters import RoleIs
from bot.handlers.replies import set_buttons
from bot.i18n import Translator
from bot.keyboards import LendCb, ReturnCb, ToolCb, loans_keyboard, spares_keyboard
from bot.models import Staff
from bot.services.spares import SpareService
from bot.unit_of_work import UnitOfWork

IT_STAFF = (Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN)


async def show_pool(message: Message, t: Translator, clock: Clock, spares: SpareService) -> None:
    pool = await spares.pool()
    lines = [t("spares.pool_header", count=len(pool.spares))]
    lines += [
        t("spares.pool_item", code=s.code, type=s.type, model=s.model, location=s.location or "-")
        for s in pool.spares
    ] or [t("spares.pool_empty")]
    lines.append(t("spares.loans_header", count=len(pool.loans)))
    now = clock.now()
    lines += [
        t(
            "spares.loan_item",
            code=loan.spare.code,
            model=loan.spare.model,
            department=loan.department.name,
            number=loan.ticket_id,
            age=now - loan.lent_at,
            engineer=loan.lender.name,
        )
        for loan in pool.loans
    ] or [t("spares.loans_empty")]
    await message.answer("\n".join(lines), reply_markup=loans_keyboard(t, pool.loans))


async def offer_spares(
    callback: CallbackQuery,
    callback_data: ToolCb,
    staff: Staff,
    t: Translator,
    spares: SpareService,
) -> None:
    ticket = await spares.lendable(staff, callback_data.ticket_id)
    choices = await spares.choices(ticket)
    if not choices:
        await callback.answer(t("spares.none_free"), show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            t("spares.pick", number=ticket.number, department=ticket.department.name),
            reply_markup=spares_keyboard(t, ticket.id, choices),
        )


async def lend(
    callback: CallbackQuery,
    callback_data: LendCb,
    staff: Staff,
    t: Translator,
    spares: SpareService,
    uow: UnitOfWork,
) -> None:
    outcome = await spares.lend(staff, callback_data.ticket_id, callback_data.spare_id)
    await uow.commit(outcome.notices)
    await set_buttons(callback, None)
    await callback.answer(t("spares.lent", number=callback_data.ticket_id), show_alert=True)


async def give_back(
    callback: CallbackQuery,
    callback_data: ReturnCb,
    staff: Staff,
    t: Translator,
    spares: SpareService,
    uow: UnitOfWork,
) -> None:
    outcome = await spares.give_back(staff, callback_data.loan_id)
    await uow.commit(outcome.notices)
    await callback.answer(t("spares.returned"), show_alert=True)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(*IT_STAFF))
    router.callback_query.filter(RoleIs(*IT_STAFF))
    router.message.register(show_pool, Command("spares"))
    router.callback_query.register(offer_spares, ToolCb.filter(F.tool == Tool.LEND))
    router.callback_query.register(lend, LendCb.filter())
    router.callback_query.register(give_back, ReturnCb.filter())
    return router
