"""Routers by role; the order matters: role routers first, the polite fallback last. A ward
user's text, the commonest update, crosses the commands' router (common) and then meets its
handler on the ward users' (reporter, which voice notes join).

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
    reminders,
    repair_report,
    reporter,
    spares,
    supervisor,
    vendor,
    whatif,
)

ORDER = (
    common,
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
