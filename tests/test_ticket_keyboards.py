"""A ticket's keyboard, built from a cached layout with the ticket's id put in as text: every
button's callback data must still parse back, through its factory, to that ticket."""

import json

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.config import SUPPORTED_LANGUAGES
from bot.domain.enums import Urgency
from bot.domain.ticket_flow import Action, Tool
from bot.i18n import Translator
from bot.keyboards import (
    AttachCb,
    ReminderAction,
    ReminderCb,
    TicketCb,
    ToolCb,
    UrgencyCb,
    ticket_keyboard,
    ticket_keyboard_json,
)
from bot.services.notices import ATTACHMENTS, STAGE_OF, URGENCY_ROW
from bot.sla.policy import Stage

EVERY_KIND = (
    URGENCY_ROW,
    Action.ACCEPT.value,
    Tool.LEND.value,
    f"{ReminderAction.SNOOZE.value}{STAGE_OF}{Stage.REPAIR.value}",
    ATTACHMENTS,
    Action.CANCEL.value,
)
FACTORIES: dict[str, type[CallbackData]] = {
    factory.__prefix__: factory for factory in (TicketCb, ToolCb, ReminderCb, AttachCb, UrgencyCb)
}


def parsed(data: str) -> CallbackData:
    return FACTORIES[data.partition(":")[0]].unpack(data)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("ticket_id", [0, 7, 2**31 - 1])
def test_every_button_parses_back_to_its_ticket(language: str, ticket_id: int) -> None:
    t = Translator(language)
    markup = ticket_keyboard(t, ticket_id, EVERY_KIND)
    assert markup is not None
    rows = [
        [(b.text, parsed(b.callback_data or "")) for b in row] for row in markup.inline_keyboard
    ]
    urgencies = [UrgencyCb(ticket_id=ticket_id, urgency=u) for u in Urgency]
    assert [data for _, data in rows[0]] == urgencies
    assert [[data for _, data in row] for row in rows[1:]] == [
        [
            TicketCb(action=Action.ACCEPT, ticket_id=ticket_id),
            ToolCb(tool=Tool.LEND, ticket_id=ticket_id),
        ],
        [
            ReminderCb(action=ReminderAction.SNOOZE, stage=Stage.REPAIR, ticket_id=ticket_id),
            AttachCb(ticket_id=ticket_id),
        ],
        [TicketCb(action=Action.CANCEL, ticket_id=ticket_id)],
    ]
    assert rows[1][0][0] == t("button.accept")
    assert rows[0][0][0].endswith(t("urgency.critical"))


def test_the_outboxs_json_is_the_same_keyboard() -> None:
    t = Translator("ko")
    as_json = ticket_keyboard_json(t, 42, EVERY_KIND)
    assert as_json is not None
    assert InlineKeyboardMarkup.model_validate_json(as_json) == ticket_keyboard(t, 42, EVERY_KIND)
    assert "긴급" in as_json, "Korean is kept as text, not escaped"
    assert json.loads(as_json)["inline_keyboard"][0][0]["callback_data"] == "u1:42:critical"


def test_no_buttons_no_keyboard() -> None:
    t = Translator("en")
    assert ticket_keyboard(t, 1, ()) is None
    assert ticket_keyboard_json(t, 1, ()) is None
