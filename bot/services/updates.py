"""Exactly-once handling of Telegram updates, across redeliveries and replicas."""

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ProcessedUpdate

KEEP_DAYS = 2
"""Telegram stops redelivering an update after 24 hours."""


class AlreadyHandled(Exception):
    """This update was handled before (a redelivery); its transaction must not commit."""


async def claim_update(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record the update in this transaction; False if it was handled (or is being handled:
    on PostgreSQL the insert waits for the other transaction) already, after a rollback."""
    session.add(ProcessedUpdate(update_id=update_id, handled_at=now))
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def purge_handled(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < before))
