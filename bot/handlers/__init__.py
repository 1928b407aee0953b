"""Routers by role; the order matters: role routers first, the polite fallback last."""

from aiogram import Router

from bot.handlers import common, engineer, fallback, reporter


def get_routers() -> list[Router]:
    return [common.router, reporter.router, engineer.router, fallback.router]
