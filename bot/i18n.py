"""Locale catalogs (gettext, one compiled .mo per language; the message key is the msgid) and
the translator handed to handlers and the renderer, with dates and times in its locale."""

from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.messages.mofile import read_mo
from babel.units import format_unit

from bot.config import SUPPORTED_LANGUAGES
from bot.domain.enums import AssetStatus, TicketStatus, Urgency
from bot.domain.repairs import Cause, VendorResult
from bot.sla.policy import Stage

DOMAIN = "messages"
BABEL_LOCALES = {"ko": "ko_KR", "en": "en_US", "zh": "zh_Hans_CN"}
"""The CLDR locale whose date and time formats each language uses."""
_DURATION_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
_ENUM_KEYS: dict[type[StrEnum], str] = {
    Urgency: "urgency.",
    TicketStatus: "status.",
    Stage: "stage.",
    AssetStatus: "asset_status.",
    Cause: "report.cause_",
    VendorResult: "vendor.result_",
}
"""Where an enum value's words live: the key is this prefix plus the value."""


@cache
def catalog(language: str) -> dict[str, str]:
    """Every message of one language by key, from its compiled catalog."""
    path = resources.files("bot.locales").joinpath(f"{language}/LC_MESSAGES/{DOMAIN}.mo")
    with path.open("rb") as mo:
        return {str(m.id): str(m.string) for m in read_mo(mo) if m.id}


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(BABEL_LOCALES[language])


@cache
def _clock(language: str, hour: int, minute: int) -> str:
    """A time of day in the locale's short format (오후 2:05 / 2:05 PM / 14:05), which shows
    hours and minutes only: every ETA shows two, and Babel formats one in tens of µs."""
    return str(format_time(time(hour, minute), "short", locale=_locale(language)))


@cache
def _month_day(language: str, month: int, day: int) -> str:
    """A day this year without the year (11월 24일 / Nov 24), as Babel formats it slowly.
    2000 is a leap year: every month and day is a date in it."""
    return str(format_skeleton("MMMd", date(2000, month, day), locale=_locale(language)))


@cache
def _moment_pattern(language: str) -> str:
    """How the locale joins a day and a time of day: {1} the day, {0} the time."""
    return str(_locale(language).datetime_formats["medium"])


def language_name(language: str) -> str:
    """The language's own name for itself (한국어, English, 中文), from CLDR."""
    return str(Locale.parse(language).display_name)


class Translator:
    """Looks up a key in one language; enum values and dates are translated too."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = _locale(language)
        self._messages = catalog(language)

    @property
    def tag(self) -> str:
        """The locale as a BCP 47 tag (ko-KR, zh-Hans-CN), for the browser."""
        return str(self.locale).replace("_", "-")

    def __call__(self, key: str, **params: Any) -> str:
        return self._messages[key].format_map(_Words(self, params))

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

    def day(self, value: date, *, short: bool = False) -> str:
        """A calendar day as this locale writes it (2026. 11. 23. / Nov 23, 2026 / 2026年11月23日);
        `short`: month and day only, for a chart's axis."""
        if short:
            return format_skeleton("Md", value, locale=self.locale)
        return format_date(value, "medium", locale=self.locale)

    def moment(self, value: datetime, zone: tzinfo, today: date | None = None) -> str:
        """A moment in local time (`zone`, the hospital's TIMEZONE) as this locale writes it.
        Given `today`, a time that day is just the time and one this year drops the year."""
        local = value.astimezone(zone)
        clock = _clock(self.language, local.hour, local.minute)
        if today is not None and local.date() == today:
            return clock
        if today is not None and local.year == today.year:
            day = _month_day(self.language, local.month, local.day)
        else:
            day = self.day(local.date())
        return _moment_pattern(self.language).replace("{1}", day).replace("{0}", clock)

    def duration(self, value: timedelta) -> str:
        """A span as this locale says it, to its two largest units (1시간 30분 / 1 hr 30 min /
        1小时30分钟): how late a stage is, how long a spare has been out."""
        seconds = max(int(value.total_seconds()), 0)
        parts: list[tuple[int, str]] = []
        for unit, size in _DURATION_UNITS:
            amount, seconds = divmod(seconds, size)
            if amount or (unit == "second" and not parts):
                parts.append((amount, unit))
        words = [
            format_unit(amount, f"duration-{unit}", length="short", locale=self.locale)
            for amount, unit in parts[:2]
        ]
        return format_list(words, style="unit-narrow", locale=self.locale)

    def _value(self, value: Any) -> Any:
        """Every parameter of every notice passes here: plain values leave first."""
        if (prefix := _ENUM_KEYS.get(type(value))) is not None:  # an enum member's exact type
            return self._messages[f"{prefix}{value.value}"]
        if value is None:
            return self._messages["common.none"]
        if isinstance(value, str | int):
            return value
        if isinstance(value, date) and not isinstance(value, datetime):
            return self.day(value)
        if isinstance(value, timedelta):
            return self.duration(value)
        return value


class _Words(dict[str, Any]):
    """A message's parameters, each translated only if its text asks for it: a ticket's
    notice carries a score of them and its text uses a few."""

    def __init__(self, t: Translator, params: dict[str, Any]) -> None:
        super().__init__()
        self.t = t
        self.params = params

    def __missing__(self, key: str) -> Any:
        return self.t._value(self.params[key])


def pick_language(stored: str | None, telegram_code: str | None, default: str) -> str:
    """The staff record wins, then Telegram's language if we speak it (`zh-hans`, `zh-CN` and
    `zh-TW` alike are Chinese), then the default."""
    if stored in SUPPORTED_LANGUAGES:
        return stored
    short = (telegram_code or "").replace("_", "-").split("-")[0].lower()
    return short if short in SUPPORTED_LANGUAGES else default
