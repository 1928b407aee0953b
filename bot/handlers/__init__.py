"""Routers by role; the order matters: role routers first, the polite fallback last.

Routers are built fresh per dispatcher: an aiogram router attaches to one parent only, and
tests (or replicas in one process) run several dispatchers.
"""

from aiogram import Router

from bot.handlers import common, engineer, fallback, reporter, supervisor, voice


def get_routers() -> list[Router]:
    return [m.build_router() for m in (common, voice, reporter, engineer, supervisor, fallback)]
