"""Locale catalogs (TOML per language) and the translator handed to handlers and the renderer."""

import tomllib
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from bot.config import SUPPORTED_LANGUAGES
from bot.domain.enums import TicketStatus, Urgency
from bot.sla.policy import Stage

_ENUM_SECTIONS: dict[type[StrEnum], str] = {
    Urgency: "urgency",
    TicketStatus: "status",
    Stage: "stage",
}


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(language: str) -> dict[str, str]:
    text = resources.files("bot.locales").joinpath(f"{language}.toml").read_text("utf-8")
    return _flatten(tomllib.loads(text))


class Translator:
    """Looks up a key in one language; enum values are translated too."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = catalog(language)

    def __call__(self, key: str, **params: Any) -> str:
        return self._messages[key].format_map({k: self._value(v) for k, v in params.items()})

    def _value(self, value: Any) -> Any:
        for enum, section in _ENUM_SECTIONS.items():
            if isinstance(value, enum):
                return self._messages[f"{section}.{value.value}"]
        return self._messages["common.none"] if value is None else value


def pick_language(stored: str | None, telegram_code: str | None, default: str) -> str:
    """The staff record wins, then Telegram's language if we speak it, then the default."""
    if stored in SUPPORTED_LANGUAGES:
        return stored
    short = (telegram_code or "").split("-")[0].lower()
    return short if short in SUPPORTED_LANGUAGES else default
