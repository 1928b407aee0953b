"""One update's (or one job's) transaction, with the notices that leave when it commits."""

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.notify.outbox import Outbox
from bot.services.notices import Notice
from bot.services.ticket_log import has_pending_events
from bot.services.updates import AlreadyHandled, claim_update


class UnitOfWork:
    def __init__(self, session: AsyncSession, clock: Clock, update_id: int | None = None) -> None:
        self.session = session
        self.clock = clock
        self.outbox = Outbox(session, clock)
        self.update_id = update_id
        """The Telegram update this transaction handles; claimed in the first commit."""

    async def commit(self, notices: Iterable[Notice] = ()) -> None:
        """Queue the notices and make everything durable; call before telling the user.

        The first commit also records the update as handled, so a redelivered copy (here or on
        another replica) finds it and its changes are rolled back (AlreadyHandled). The claim
        is written at commit, not at the start: on SQLite an early write would hold the
        database's only write lock through a whole voice transcription.
        """
        self.outbox.add(notices)
        if self.update_id is None and self._nothing_to_commit():
            return  # e.g. a report handed over to the intake: its batch commits
        if self.update_id is not None:
            if not await claim_update(self.session, self.update_id, self.clock.now()):
                raise AlreadyHandled(self.update_id)
            self.update_id = None
        await self.outbox.write()
        await self.session.commit()

    async def hand_over(self) -> int | None:
        """The update id, for a transaction elsewhere (the intake's batch) to claim instead.
        Ends this one, which must have read only, so its connection is not held meanwhile."""
        session = self.session
        assert not (session.new or session.dirty or session.deleted), "hand over before writing"
        if session.in_transaction():  # a handler that read the sender as looked up began none
            await session.commit()
        update_id, self.update_id = self.update_id, None
        return update_id

    def _nothing_to_commit(self) -> bool:
        session = self.session
        return not (
            session.in_transaction()
            or session.new
            or session.dirty
            or session.deleted
            or self.outbox.waiting
            or has_pending_events(session.sync_session)
        )

    @property
    def has_news(self) -> bool:
        return self.outbox.added > 0
