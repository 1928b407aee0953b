"""Routers by role; the order matters: role routers first, the polite fallback last.

Routers are built fresh per dispatcher: an aiogram router attaches to one parent only, and
tests (or replicas in one process) run several dispatchers.
"""

from aiogram import Router

from bot.handlers import (
    admin,
    assets,
    common,
    engineer,
    fallback,
    forms,
    handover,
    knowledge,
    language,
    reminders,
    repair_report,
    reporter,
    spares,
    supervisor,
    vendor,
    voice,
    whatif,
)

ORDER = (
    common,
    language,
    voice,
    reporter,
    engineer,
    reminders,
    repair_report,
    handover,
    vendor,
    spares,
    assets,
    knowledge,
    supervisor,
    whatif,
    admin,
    forms,
    fallback,
)


def get_routers() -> list[Router]:
    return [m.build_router() for m in ORDER]
