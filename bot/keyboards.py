"""Callback data factories and the inline keyboards built from them."""

from collections.abc import Iterable, Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.enums import Urgency
from bot.domain.ticket_flow import Action
from bot.i18n import Translator
from bot.models import Department
from bot.services.notices import ATTACHMENTS, URGENCY_ROW

_URGENCY_ICONS = {
    Urgency.CRITICAL: "🔴",
    Urgency.HIGH: "🟠",
    Urgency.NORMAL: "🟢",
    Urgency.LOW: "⚪",
}


class TicketCb(CallbackData, prefix="t1"):
    action: Action
    ticket_id: int


class UrgencyCb(CallbackData, prefix="u1"):
    ticket_id: int
    urgency: Urgency


class DeptAction(StrEnum):
    PICK = "pick"
    PAGE = "page"


class DeptCb(CallbackData, prefix="d1"):
    action: DeptAction
    value: int


class AssetCb(CallbackData, prefix="a1"):
    """Report a new fault on a device that already has an open ticket."""

    asset_id: int


class BindCb(CallbackData, prefix="k1"):
    """An engineer binds a scanned device to one of their jobs."""

    ticket_id: int
    asset_id: int


class ReminderAction(StrEnum):
    SNOOZE = "snooze"
    ON_IT = "on_it"


class ReminderCb(CallbackData, prefix="r1"):
    """The engineer's answer to an SLA reminder, recorded on the ticket."""

    action: ReminderAction
    ticket_id: int


class DutyCb(CallbackData, prefix="y1"):
    """A supervisor switches an engineer on or off duty."""

    staff_id: int
    on: bool


class AttachCb(CallbackData, prefix="m1"):
    """Send the ticket's photos and voice messages to the engineer who asks."""

    ticket_id: int


class VoiceAction(StrEnum):
    CREATE = "create"
    FIX = "fix"


class VoiceCb(CallbackData, prefix="v1"):
    action: VoiceAction


class FlowAction(StrEnum):
    ABORT = "abort"


class FlowCb(CallbackData, prefix="f1"):
    action: FlowAction


def ticket_keyboard(
    t: Translator, ticket_id: int, buttons: Iterable[str]
) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    actions = []
    for name in buttons:
        if name in {a.value for a in ReminderAction}:
            actions.append(
                InlineKeyboardButton(
                    text=t(f"button.{name}"),
                    callback_data=ReminderCb(
                        action=ReminderAction(name), ticket_id=ticket_id
                    ).pack(),
                )
            )
        elif name == ATTACHMENTS:
            actions.append(
                InlineKeyboardButton(
                    text=t("button.attachments"),
                    callback_data=AttachCb(ticket_id=ticket_id).pack(),
                )
            )
        elif name == URGENCY_ROW:
            builder.row(
                *(
                    InlineKeyboardButton(
                        text=f"{_URGENCY_ICONS[u]} {t(f'urgency.{u.value}')}",
                        callback_data=UrgencyCb(ticket_id=ticket_id, urgency=u).pack(),
                    )
                    for u in Urgency
                )
            )
        else:
            action = Action(name)
            actions.append(
                InlineKeyboardButton(
                    text=t(f"button.{action.value}"),
                    callback_data=TicketCb(action=action, ticket_id=ticket_id).pack(),
                )
            )
    if actions:
        builder.row(*actions)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def departments_keyboard(
    t: Translator, departments: Sequence[Department], page: int, pages: int
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for department in departments:
        builder.button(
            text=department.name,
            callback_data=DeptCb(action=DeptAction.PICK, value=department.id),
        )
    builder.adjust(2)
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                text=t("button.prev"),
                callback_data=DeptCb(action=DeptAction.PAGE, value=page - 1).pack(),
            )
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(
                text=t("button.next"),
                callback_data=DeptCb(action=DeptAction.PAGE, value=page + 1).pack(),
            )
        )
    if nav:
        builder.row(*nav)
    return builder.as_markup()


def abort_keyboard(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("button.abort"), callback_data=FlowCb(action=FlowAction.ABORT))
    return builder.as_markup()


KNOWN_PREFIXES = frozenset(
    cb.__prefix__
    for cb in (
        TicketCb,
        UrgencyCb,
        DeptCb,
        FlowCb,
        AssetCb,
        BindCb,
        VoiceCb,
        AttachCb,
        ReminderCb,
        DutyCb,
    )
)


def new_report_keyboard(t: Translator, asset_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("button.new_report"), callback_data=AssetCb(asset_id=asset_id))
    return builder.as_markup()


def bind_keyboard(tickets: Sequence[tuple[int, str]], asset_id: int) -> InlineKeyboardMarkup:
    """One button per job in hand: `#n description`."""
    builder = InlineKeyboardBuilder()
    for ticket_id, label in tickets:
        builder.button(
            text=f"#{ticket_id} {label}"[:60],
            callback_data=BindCb(ticket_id=ticket_id, asset_id=asset_id),
        )
    builder.adjust(1)
    return builder.as_markup()


def voice_keyboard(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("button.voice_create"), callback_data=VoiceCb(action=VoiceAction.CREATE))
    builder.button(text=t("button.voice_fix"), callback_data=VoiceCb(action=VoiceAction.FIX))
    return builder.as_markup()


def engineers_keyboard(
    t: Translator, engineers: Sequence[tuple[int, str, bool]]
) -> InlineKeyboardMarkup:
    """One button per engineer: pressing it switches their duty."""
    builder = InlineKeyboardBuilder()
    for staff_id, name, on_duty in engineers:
        mark = t("supervise.on_mark" if on_duty else "supervise.off_mark")
        builder.button(
            text=f"{mark} {name}", callback_data=DutyCb(staff_id=staff_id, on=not on_duty)
        )
    builder.adjust(2)
    return builder.as_markup()
