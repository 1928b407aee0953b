"""Locale catalogs (TOML per language) and the translator handed to handlers and the renderer."""

import tomllib
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from bot.config import SUPPORTED_LANGUAGES
from bot.domain.enums import AssetStatus, TicketStatus, Urgency
from bot.domain.repairs import Cause, VendorResult
from bot.sla.policy import Stage

_ENUM_KEYS: dict[type[StrEnum], str] = {
    Urgency: "urgency.",
    TicketStatus: "status.",
    Stage: "stage.",
    AssetStatus: "asset_status.",
    Cause: "report.cause_",
    VendorResult: "vendor.result_",
}
"""Where an enum value's words live: the key is this prefix plus the value."""


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

    def section(self, name: str) -> dict[str, str]:
        """Every message of a catalog section, by its short key (for the web page's script)."""
        prefix = f"{name}."
        return {
            k.removeprefix(prefix): v for k, v in self._messages.items() if k.startswith(prefix)
        }

    def money(self, amount: Decimal) -> str:
        """An amount with thousands separators, cents only when there are any."""
        whole = amount == amount.to_integral_value()
        return self("common.money", amount=f"{amount:,.0f}" if whole else f"{amount:,.2f}")

    def word(self, value: StrEnum) -> str:
        """An enum value (urgency, status, cause...) in this language."""
        return str(self._value(value))

    def _value(self, value: Any) -> Any:
        for enum, prefix in _ENUM_KEYS.items():
            if isinstance(value, enum):
                return self._messages[f"{prefix}{value.value}"]
        return self._messages["common.none"] if value is None else value


def pick_language(stored: str | None, telegram_code: str | None, default: str) -> str:
    """The staff record wins, then Telegram's language if we speak it, then the default."""
    if stored in SUPPORTED_LANGUAGES:
        return stored
    short = (telegram_code or "").split("-")[0].lower()
    return short if short in SUPPORTED_LANGUAGES else default
