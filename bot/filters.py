"""Role filters: routers use them so a handler cannot be reached by the wrong role."""

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.domain.enums import Role
from bot.models import Staff


class RoleIs(Filter):
    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, staff: Staff | None = None) -> bool:
        return staff is not None and staff.role in self.roles


class Registered(Filter):
    async def __call__(self, event: TelegramObject, staff: Staff | None = None) -> bool:
        return staff is not None
