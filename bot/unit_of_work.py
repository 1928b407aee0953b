"""One update's (or one job's) transaction, with the notices that leave when it commits."""

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.notify.outbox import Outbox
from bot.services.notices import Notice


class UnitOfWork:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.outbox = Outbox(session, clock)

    async def commit(self, notices: Iterable[Notice] = ()) -> None:
        """Queue the notices and make everything durable; call before telling the user."""
        self.outbox.add(notices)
        await self.session.commit()

    @property
    def has_news(self) -> bool:
        return self.outbox.added > 0
