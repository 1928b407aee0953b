"""The fixed choices and the free-text parsing of a repair report and a vendor repair."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from bot.durations import parse_duration


class Cause(StrEnum):
    HARDWARE = "hardware"
    SOFTWARE = "software"
    NETWORK = "network"
    CONSUMABLE = "consumable"
    USER = "user"
    OTHER = "other"


class VendorResult(StrEnum):
    REPAIRED = "repaired"
    REPLACED = "replaced"
    UNREPAIRABLE = "unrepairable"


TIME_CHOICES = (15, 30, 60, 120, 240)
"""Minutes offered as buttons for "time spent"; anything else is typed (``45m``, ``1h30m``)."""

MAX_AMOUNT = Decimal("9999999999.99")
_AMOUNT = re.compile(r"^\s*[₩$€]?\s*([0-9][0-9,]*(?:\.[0-9]{1,2})?)\s*(원|krw|won)?\s*$", re.I)


@dataclass(frozen=True)
class RepairDetails:
    cause: Cause
    action: str
    parts: str
    cost: Decimal
    minutes: int


def parse_amount(text: str) -> Decimal:
    """``12,000``, ``12000원``, ``₩12000`` or ``35.50``; ValueError for anything else."""
    found = _AMOUNT.match(text)
    if found is None:
        raise ValueError(text)
    try:
        amount = Decimal(found.group(1).replace(",", ""))
    except InvalidOperation:
        raise ValueError(text) from None
    if amount > MAX_AMOUNT:
        raise ValueError(text)
    return amount


def parse_minutes(text: str) -> int:
    """Time spent: a bare number is minutes, else a duration like ``1h30m``."""
    cleaned = text.strip().lower().replace("분", "m").replace("시간", "h")
    if cleaned.isdigit():
        minutes = int(cleaned)
    else:
        minutes = int(parse_duration(cleaned) / timedelta(minutes=1))
    if not 0 < minutes <= 7 * 24 * 60:
        raise ValueError(text)
    return minutes


def parse_return_date(text: str, today: date) -> date:
    """When a vendor promises the device back: ``2026-12-01``, ``12/1``, or ``7d`` from today."""
    cleaned = text.strip()
    for form in ("%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(cleaned, form).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    short = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})", cleaned)
    if short:
        month, day = int(short.group(1)), int(short.group(2))
        promised = date(today.year, month, day)
        return promised if promised >= today else date(today.year + 1, month, day)
    return today + timedelta(days=parse_duration(cleaned).days or 1)
