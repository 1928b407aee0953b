"""Role filters, so a handler cannot be reached by the wrong role, and the content filters
every router shares."""

from collections.abc import Callable

from aiogram.filters import Filter
from aiogram.types import Message, TelegramObject

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


class OnLoop(Filter):
    """A predicate checked on the event loop. aiogram runs every sync filter (a magic `F`
    filter too) in a worker thread, for every update it meets; these checks are a few attribute
    reads, and the thread hops cost far more than the checks (bench/intake.py)."""

    def __init__(self, check: Callable[[Message], bool]) -> None:
        self.check = check

    async def __call__(self, event: Message) -> bool:
        return self.check(event)


def _is_command(message: Message) -> bool:
    return message.text is not None and message.text.startswith("/")


TEXT = OnLoop(lambda m: m.text is not None and not _is_command(m))
"""Words typed, not a command."""
COMMAND = OnLoop(_is_command)
ANY_TEXT = OnLoop(lambda m: m.text is not None)
PHOTO = OnLoop(lambda m: bool(m.photo))
IMAGE_FILE = OnLoop(
    lambda m: m.document is not None and (m.document.mime_type or "").startswith("image/")
)
"""A picture sent as a file (uncompressed)."""
VOICE = OnLoop(lambda m: m.voice is not None)
