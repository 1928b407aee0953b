"""`/asset CODE`: a device's card (model, place, status, repairs and their cost) for IT staff,
with the life-cycle moves they may make by hand, each asked for a reason."""

from concurrent.futures import Executor
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.domain.enums import AssetStatus, Role
from bot.filters import IMAGE_FILE, PHOTO, RoleIs
from bot.handlers.forms import Form, Step
from bot.handlers.media import labelled_device
from bot.i18n import Translator
from bot.keyboards import AssetStatusCb, asset_keyboard
from bot.models import Asset, Staff
from bot.services.assets import AssetCard, asset_by_code, asset_card
from bot.services.lifecycle import change_status, manual_moves
from bot.unit_of_work import UnitOfWork

IT_STAFF = (Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN)


class AssetForm(StatesGroup):
    reason = State()


def card_text(t: Translator, card: AssetCard, zone: ZoneInfo) -> str:
    """The card, its days local to the hospital (`zone`)."""
    asset = card.asset
    lines = [
        t(
            "asset.card",
            code=asset.code,
            type=asset.type,
            model=asset.model,
            department=asset.department.name,
            location=asset.location or "-",
            status=t.word(asset.status),
            purchased=asset.purchased_on,
            repairs=len(card.repairs),
            total=t.money(card.total_cost),
        )
    ]
    if card.open_ticket is not None:
        lines.append(t("asset.open_ticket", number=card.open_ticket.number))
    if card.loan is not None:
        lines.append(
            t("asset.on_loan", department=card.loan.department.name, number=card.loan.ticket_id)
        )
    if card.repairs:
        lines.append(t("asset.history"))
    lines += [
        t(
            "asset.repair_line",
            number=r.number,
            day=r.opened.astimezone(zone).date(),
            status=r.status,
            description=r.description[:60],
            resolution=(r.resolution or "-")[:60],
            cost=t.money(r.cost),
        )
        for r in card.repairs
    ]
    if card.events:
        lines.append(t("asset.events"))
    lines += [
        t(
            "asset.event_line",
            day=e.at.astimezone(zone).date(),
            before=t.word(e.from_status),
            after=t.word(e.to_status),
            reason=e.reason or "-",
        )
        for e in card.events
    ]
    return "\n".join(lines)


async def show_card(
    message: Message, session: AsyncSession, t: Translator, asset: Asset, zone: ZoneInfo
) -> None:
    card = await asset_card(session, asset)
    await message.answer(
        card_text(t, card, zone), reply_markup=asset_keyboard(t, asset.id, manual_moves(asset))
    )


async def asset_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    t: Translator,
    settings: Settings,
) -> None:
    code = (command.args or "").strip()
    if not code:
        await message.answer(t("asset.usage"))
        return
    asset = await asset_by_code(session, code[:64])
    if asset is None:
        await message.answer(t("asset.unknown", code=code[:64]))
        return
    await show_card(message, session, t, asset, settings.tz)


async def move_pressed(
    callback: CallbackQuery,
    callback_data: AssetStatusCb,
    session: AsyncSession,
    t: Translator,
    state: FSMContext,
) -> None:
    asset = await session.get(Asset, callback_data.asset_id)
    if asset is None or callback_data.status not in manual_moves(asset):
        await callback.answer(t("error.stale_button"), show_alert=True)
        return
    await MOVE.start_from(
        callback,
        state,
        t,
        asset_id=asset.id,
        status=callback_data.status.value,
        status_label=t.word(callback_data.status),
    )


async def _move(target: Message, data: dict[str, Any], handler: dict[str, Any]) -> None:
    session: AsyncSession = handler["session"]
    clock: Clock = handler["clock"]
    staff: Staff = handler["staff"]
    t: Translator = handler["t"]
    uow: UnitOfWork = handler["uow"]
    asset = await session.get(Asset, data["asset_id"])
    if asset is None:
        await target.answer(t("error.stale_button"))
        return
    status = AssetStatus(data["status"])
    change_status(session, clock, staff, asset, status, data["reason"])
    await uow.commit()
    await target.answer(t("asset.moved", code=asset.code, status=t.word(status)))


MOVE = Form([Step("reason", AssetForm.reason, "asset.ask_reason")], _move)


async def card_from_photo(
    message: Message,
    session: AsyncSession,
    t: Translator,
    bot: Bot,
    cpu: Executor,
    settings: Settings,
) -> None:
    """A supervisor's label photo opens the device's card (an engineer's binds it to a job)."""
    asset = await labelled_device(message, session, t, bot, cpu)
    if asset is not None:
        await show_card(message, session, t, asset, settings.tz)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(*IT_STAFF))
    router.callback_query.filter(RoleIs(*IT_STAFF))
    router.message.register(asset_command, Command("asset"))
    managers = RoleIs(Role.SUPERVISOR, Role.ADMIN)
    router.message.register(card_from_photo, managers, PHOTO)
    router.message.register(card_from_photo, managers, IMAGE_FILE)
    router.callback_query.register(move_pressed, AssetStatusCb.filter())
    MOVE.register(router)
    return router
