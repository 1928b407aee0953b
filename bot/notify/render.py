"""Notice -> text and keyboard in the recipient's language."""

from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator
from bot.keyboards import ticket_keyboard_json
from bot.services.forecast import Window
from bot.services.notices import Notice


@dataclass(frozen=True)
class Rendered:
    chat_id: int
    text: str
    markup: str | None
    """The keyboard as Telegram's `reply_markup` JSON."""


def position_text(t: Translator, ahead: int | None) -> str:
    if ahead is None:
        return ""
    return t("common.position_next") if ahead == 0 else t("common.position", ahead=ahead)


def ticket_params(t: Translator, params: dict[str, Any]) -> dict[str, Any]:
    """Fill the derived placeholders every ticket message may use."""
    device = ""
    if params.get("asset"):
        device = t(
            "common.device",
            asset=params["asset"],
            model=params.get("model") or "-",
            location=params.get("location") or "-",
        )
    return {
        **params,
        "device": device,
        "engineer": params.get("engineer") or t("common.unassigned"),
        "reporter": params.get("reporter") or t("common.inspection_reporter"),
        "position": position_text(t, params.get("position")),
        "priority_mark": t("common.priority_mark") if params.get("priority") else "",
        "eta": eta_text(t, params.get("eta")),
    }


def eta_text(t: Translator, eta: Window | None) -> str:
    if eta is None:
        return ""
    start, end = (t.moment(moment, eta.zone, eta.today) for moment in (eta.start, eta.end))
    return t("common.eta", start=start, end=end)


def render(notice: Notice) -> Rendered:
    t = Translator(notice.recipient.language)
    text = "\n".join(
        line for line in t(notice.key, **ticket_params(t, notice.params)).splitlines() if line
    )
    markup = None
    if notice.ticket_id is not None:
        markup = ticket_keyboard_json(t, notice.ticket_id, notice.buttons)
    return Rendered(notice.recipient.telegram_id, text, markup)
