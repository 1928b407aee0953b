"""Routers by role; the order matters: role routers first, the polite fallback last. A ward
user's text with no form open, the commonest update, meets its handler on the dispatcher
itself, ahead of them all (`reporter.register_plain_report`).

Routers are built fresh per dispatcher: an aiogram router attaches to one parent only, and
tests (or replicas in one process) run several dispatchers.
"""

from aiogram import Dispatcher

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


def include_handlers(dispatcher: Dispatcher) -> None:
    reporter.register_plain_report(dispatcher)
    dispatcher.include_routers(*(m.build_router() for m in ORDER))
