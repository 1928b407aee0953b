"""Callback data factories and the inline keyboards built from them."""

import json
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import cache
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.config import SUPPORTED_LANGUAGES, Language
from bot.domain.enums import AssetStatus, Urgency
from bot.domain.repairs import TIME_CHOICES, Cause, VendorResult
from bot.domain.ticket_flow import Action, Tool
from bot.i18n import Translator, language_name
from bot.models import Asset, Department, SpareLoan
from bot.services.notices import ATTACHMENTS, STAGE_OF, URGENCY_ROW
from bot.sla.policy import Stage

RowId = Annotated[int, Field(ge=0, le=2**31 - 1)]
"""A row id (or page) as a button carries it: a forged one beyond the database's integers is
refused when the press is parsed, like any other malformed data, instead of reaching a query."""

_URGENCY_ICONS = {
    Urgency.CRITICAL: "🔴",
    Urgency.HIGH: "🟠",
    Urgency.NORMAL: "🟢",
    Urgency.LOW: "⚪",
}


class TicketCb(CallbackData, prefix="t1"):
    action: Action
    ticket_id: RowId


class UrgencyCb(CallbackData, prefix="u1"):
    ticket_id: RowId
    urgency: Urgency


class DeptAction(StrEnum):
    PICK = "pick"
    PAGE = "page"


class DeptCb(CallbackData, prefix="d1"):
    action: DeptAction
    value: RowId


class AssetCb(CallbackData, prefix="a1"):
    """Report a new fault on a device that already has an open ticket."""

    asset_id: RowId


class BindCb(CallbackData, prefix="k1"):
    """An engineer binds a scanned device to one of their jobs."""

    ticket_id: RowId
    asset_id: RowId


class ReminderAction(StrEnum):
    SNOOZE = "snooze"
    ON_IT = "on_it"


class ReminderCb(CallbackData, prefix="r2"):
    """An answer to an SLA reminder, recorded on the ticket; the stage says whom it went to."""

    action: ReminderAction
    stage: Stage
    ticket_id: RowId


class DutyCb(CallbackData, prefix="y1"):
    """A supervisor switches an engineer on or off duty."""

    staff_id: RowId
    on: bool


class AttachCb(CallbackData, prefix="m1"):
    """Send the ticket's photos and voice messages to the engineer who asks."""

    ticket_id: RowId


class VoiceAction(StrEnum):
    CREATE = "create"
    FIX = "fix"


class VoiceCb(CallbackData, prefix="v1"):
    action: VoiceAction


class FlowAction(StrEnum):
    ABORT = "abort"


class FlowCb(CallbackData, prefix="f1"):
    action: FlowAction


class ToolCb(CallbackData, prefix="o1"):
    """Invite a helper or lend a spare: opens a picker."""

    tool: Tool
    ticket_id: RowId


class PickPurpose(StrEnum):
    TRANSFER = "transfer"
    HELPER = "helper"


class PickCb(CallbackData, prefix="p1"):
    """An engineer picked from the on-duty list, to hand the job to or to help."""

    purpose: PickPurpose
    ticket_id: RowId
    staff_id: RowId


class LendCb(CallbackData, prefix="l1"):
    ticket_id: RowId
    spare_id: RowId


class ReturnCb(CallbackData, prefix="n1"):
    """A lent spare is back in the pool."""

    loan_id: RowId


class ReceiveCb(CallbackData, prefix="b1"):
    """The device is back from the vendor, with this result."""

    ticket_id: RowId
    result: VendorResult


class AnswerCb(CallbackData, prefix="c1"):
    """A fixed answer to the current step of a guided form (repair report, send-out)."""

    value: str


class AssetStatusCb(CallbackData, prefix="x1"):
    asset_id: RowId
    status: AssetStatus


class KbOp(StrEnum):
    ADD = "add"
    ADD_SELF = "self"


class KbCb(CallbackData, prefix="q1"):
    """Turn a resolved ticket's report into a knowledge-base article."""

    op: KbOp
    ticket_id: RowId


class SelfHelpCb(CallbackData, prefix="h1"):
    """A ward user says a self-help article fixed their device."""

    article_id: RowId
    asset_id: RowId


class LanguageCb(CallbackData, prefix="g1"):
    """Speak this language to me from now on."""

    language: Language


_TOOLS = frozenset(tool.value for tool in Tool)


Button = tuple[str, str]
"""A button as text and callback data."""


def ticket_buttons(t: Translator, ticket_id: int, buttons: Iterable[str]) -> list[list[Button]]:
    """A ticket's keyboard as rows of (text, callback data). Every notice renders one: the
    layout of each language and set of buttons is built once (`_layout`), and the ticket's id
    is put into its callback data as text, not through pydantic for every button."""
    number = str(ticket_id)
    return [
        [(text, f"{before}{number}{after}") for text, before, after in row]
        for row in _layout(t.language, tuple(buttons))
    ]


def ticket_keyboard(
    t: Translator, ticket_id: int, buttons: Iterable[str]
) -> InlineKeyboardMarkup | None:
    rows = ticket_buttons(t, ticket_id, buttons)
    return InlineKeyboardMarkup(inline_keyboard=_markup_rows(rows)) if rows else None


def ticket_keyboard_json(t: Translator, ticket_id: int, buttons: Iterable[str]) -> str | None:
    """The keyboard as Telegram's `reply_markup` JSON, the way the outbox keeps it."""
    rows = ticket_buttons(t, ticket_id, buttons)
    if not rows:
        return None
    keyboard = [[{"text": text, "callback_data": data} for text, data in row] for row in rows]
    return json.dumps({"inline_keyboard": keyboard}, ensure_ascii=False, separators=(",", ":"))


_Slot = tuple[str, str, str]
"""A button's text and its callback data before and after the ticket's id."""
_LAYOUT_ID = 0
"""The ticket id a layout is packed with, then cut out at its field's place."""


@cache
def _layout(language: str, buttons: tuple[str, ...]) -> tuple[tuple[_Slot, ...], ...]:
    t = Translator(language)
    rows: list[tuple[_Slot, ...]] = []
    actions: list[_Slot] = []
    for name in buttons:
        if name == URGENCY_ROW:
            rows.append(
                tuple(
                    _slot(
                        f"{_URGENCY_ICONS[u]} {t(f'urgency.{u.value}')}",
                        UrgencyCb(ticket_id=_LAYOUT_ID, urgency=u),
                    )
                    for u in Urgency
                )
            )
        else:
            actions.append(_action_slot(t, name))
    rows += [tuple(actions[start : start + 2]) for start in range(0, len(actions), 2)]
    return tuple(rows)


def _action_slot(t: Translator, name: str) -> _Slot:
    if name in _TOOLS:
        return _slot(t(f"button.{name}"), ToolCb(tool=Tool(name), ticket_id=_LAYOUT_ID))
    if STAGE_OF in name:
        answer, _, stage = name.partition(STAGE_OF)
        reminder = ReminderCb(
            action=ReminderAction(answer), stage=Stage(stage), ticket_id=_LAYOUT_ID
        )
        return _slot(t(f"button.{answer}"), reminder)
    if name == ATTACHMENTS:
        return _slot(t("button.attachments"), AttachCb(ticket_id=_LAYOUT_ID))
    action = Action(name)
    return _slot(t(f"button.{action.value}"), TicketCb(action=action, ticket_id=_LAYOUT_ID))


def _slot(text: str, data: CallbackData) -> _Slot:
    """Split `data`, packed with `_LAYOUT_ID`, around the ticket id's field."""
    separator = data.__separator__
    parts = data.pack().split(separator)
    at = 1 + list(type(data).model_fields).index("ticket_id")  # parts[0] is the prefix
    return (
        text,
        separator.join(parts[:at]) + separator,
        "".join(separator + part for part in parts[at + 1 :]),
    )


def _markup_rows(rows: Sequence[Sequence[Button]]) -> list[list[InlineKeyboardButton]]:
    return [
        [InlineKeyboardButton(text=text, callback_data=data) for text, data in row] for row in rows
    ]


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
        ToolCb,
        PickCb,
        LendCb,
        ReturnCb,
        ReceiveCb,
        AnswerCb,
        AssetStatusCb,
        KbCb,
        SelfHelpCb,
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


def _one_per_row(builder: InlineKeyboardBuilder) -> InlineKeyboardMarkup:
    builder.adjust(1)
    return builder.as_markup()


def pick_keyboard(
    t: Translator,
    purpose: PickPurpose,
    ticket_id: int,
    engineers: Sequence[tuple[int, str, int]],
) -> InlineKeyboardMarkup:
    """On-duty engineers with their queue length, then a way out."""
    builder = InlineKeyboardBuilder()
    for staff_id, name, queue in engineers:
        builder.button(
            text=t("handover.choice", name=name, queue=queue),
            callback_data=PickCb(purpose=purpose, ticket_id=ticket_id, staff_id=staff_id),
        )
    builder.button(text=t("button.abort"), callback_data=FlowCb(action=FlowAction.ABORT))
    return _one_per_row(builder)


def spares_keyboard(t: Translator, ticket_id: int, spares: Sequence[Asset]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for spare in spares:
        builder.button(
            text=f"{spare.code} · {spare.type} · {spare.model}"[:60],
            callback_data=LendCb(ticket_id=ticket_id, spare_id=spare.id),
        )
    builder.button(text=t("button.abort"), callback_data=FlowCb(action=FlowAction.ABORT))
    return _one_per_row(builder)


def loans_keyboard(t: Translator, loans: Sequence[SpareLoan]) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for loan in loans:
        builder.button(
            text=t("spares.return_button", spare=loan.spare.code),
            callback_data=ReturnCb(loan_id=loan.id),
        )
    return _one_per_row(builder) if loans else None


def receive_keyboard(t: Translator, ticket_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for result in VendorResult:
        builder.button(
            text=t.word(result),
            callback_data=ReceiveCb(ticket_id=ticket_id, result=result),
        )
    builder.button(text=t("button.abort"), callback_data=FlowCb(action=FlowAction.ABORT))
    return _one_per_row(builder)


def answers_keyboard(
    t: Translator, answers: Sequence[tuple[str, str]], columns: int = 2
) -> InlineKeyboardMarkup:
    """Fixed answers (value, label) to the current step, and a way out."""
    builder = InlineKeyboardBuilder()
    for value, label in answers:
        builder.button(text=label, callback_data=AnswerCb(value=value))
    builder.adjust(columns)
    builder.row(
        InlineKeyboardButton(
            text=t("button.abort"), callback_data=FlowCb(action=FlowAction.ABORT).pack()
        )
    )
    return builder.as_markup()


def cause_answers(t: Translator) -> list[tuple[str, str]]:
    return [(cause.value, t.word(cause)) for cause in Cause]


def time_answers(t: Translator) -> list[tuple[str, str]]:
    return [(str(m), t("report.minutes", minutes=m)) for m in TIME_CHOICES]


def asset_keyboard(
    t: Translator, asset_id: int, moves: Sequence[AssetStatus]
) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for status in moves:
        builder.button(
            text=t("asset.move_to", status=t.word(status)),
            callback_data=AssetStatusCb(asset_id=asset_id, status=status),
        )
    return _one_per_row(builder) if moves else None


def kb_keyboard(t: Translator, ticket_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("button.kb_add"), callback_data=KbCb(op=KbOp.ADD, ticket_id=ticket_id))
    builder.button(
        text=t("button.kb_add_self"), callback_data=KbCb(op=KbOp.ADD_SELF, ticket_id=ticket_id)
    )
    return _one_per_row(builder)


def self_help_keyboard(
    t: Translator, asset_id: int, article_ids: Sequence[int]
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, article_id in enumerate(article_ids, start=1):
        builder.button(
            text=t("selfhelp.fixed", index=index),
            callback_data=SelfHelpCb(article_id=article_id, asset_id=asset_id),
        )
    return _one_per_row(builder)


def language_keyboard() -> InlineKeyboardMarkup:
    """One button per language, each in its own words, so anyone finds theirs."""
    builder = InlineKeyboardBuilder()
    for language in SUPPORTED_LANGUAGES:
        builder.button(text=language_name(language), callback_data=LanguageCb(language=language))
    builder.adjust(len(SUPPORTED_LANGUAGES))
    return builder.as_markup()
