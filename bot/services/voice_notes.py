"""Who hears which voice note, and until when: claims on VoiceNote rows, so that every note is
heard once, by one process, even across stops, crashes and replicas (the hearing itself is
bot/intake/hearing.py)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import VoiceNote

LEASE = timedelta(minutes=10)
"""How long a claim holds: a two-minute note takes about 25 s to hear, so only a process that
died (or hangs) lets a claim run out."""
HANDOVER = timedelta(seconds=30)
"""How long a new note's first claim holds, from its update's commit until its hearing starts
and renews the claim to LEASE. A handler that outlives a stop commits its note after the stop
gave the process's notes back, or hands it to a hearing that no longer starts any: that note
waits this long for another process, not a whole lease."""
MAX_ATTEMPTS = 3
"""Claims that ended without a draft before the reporter is asked to send the note again."""


@dataclass(frozen=True)
class NoteToHear:
    id: int
    chat_id: int
    user_id: int
    file_id: str
    language: str
    attempts: int

    @property
    def given_up(self) -> bool:
        return self.attempts > MAX_ATTEMPTS


_COLUMNS = (
    VoiceNote.id,
    VoiceNote.chat_id,
    VoiceNote.user_id,
    VoiceNote.file_id,
    VoiceNote.language,
    VoiceNote.attempts,
)


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(VoiceNote.claimed_until.is_(None), VoiceNote.claimed_until < now)


def _held(note: NoteToHear, owner: str) -> ColumnElement[bool]:
    """The note's row, while `owner` still holds it."""
    return and_(VoiceNote.id == note.id, VoiceNote.claimed_by == owner)


async def take(
    session: AsyncSession,
    *,
    chat_id: int,
    user_id: int,
    file_id: str,
    language: str,
    owner: str,
    now: datetime,
) -> NoteToHear:
    """A new note, claimed by `owner` for HANDOVER: part of the transaction that handles its
    update."""
    note = VoiceNote(
        chat_id=chat_id,
        user_id=user_id,
        file_id=file_id,
        language=language,
        received_at=now,
        claimed_by=owner,
        claimed_until=now + HANDOVER,
        attempts=1,
    )
    session.add(note)
    await session.flush()
    return NoteToHear(note.id, chat_id, user_id, file_id, language, 1)


async def claim_waiting(
    session: AsyncSession, owner: str, now: datetime, limit: int
) -> list[NoteToHear]:
    """The oldest notes nobody holds (given back at a stop, let go by a crash, or put off after
    a failure), claimed by `owner`. The claim re-checks the condition on the row it updates, so
    of two replicas sweeping at once only one gets each note."""
    waiting = select(VoiceNote.id).where(_unclaimed(now)).order_by(VoiceNote.id).limit(limit)
    claimed = await session.execute(
        update(VoiceNote)
        .where(VoiceNote.id.in_(waiting.scalar_subquery()), _unclaimed(now))
        .values(claimed_by=owner, claimed_until=now + LEASE, attempts=VoiceNote.attempts + 1)
        .returning(*_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    return sorted((NoteToHear(*row) for row in claimed), key=lambda note: note.id)


async def renew(session: AsyncSession, note: NoteToHear, owner: str, now: datetime) -> bool:
    """Hold the note for a LEASE from `now`, as its hearing starts; False if `owner` no longer
    holds it (its claim ran out and another took it)."""
    renewed = await session.execute(
        update(VoiceNote)
        .where(_held(note, owner))
        .values(claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


async def put_off(session: AsyncSession, note: NoteToHear, owner: str, until: datetime) -> None:
    """Let go of a note that failed (Telegram down, say), to be claimed again after `until`."""
    await session.execute(
        update(VoiceNote)
        .where(_held(note, owner))
        .values(claimed_by=None, claimed_until=until)
        .execution_options(synchronize_session=False)
    )


async def give_back(session: AsyncSession, owner: str) -> int:
    """Every note `owner` holds, free at once for the next process: a stop cut them off, which
    does not count as an attempt."""
    given = await session.execute(
        update(VoiceNote)
        .where(VoiceNote.claimed_by == owner)
        .values(claimed_by=None, claimed_until=None, attempts=VoiceNote.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return int(given.rowcount)  # type: ignore[attr-defined]


async def done(session: AsyncSession, note: NoteToHear, owner: str) -> bool:
    """Drop the note, its reply written in the same transaction; False if `owner` no longer
    holds it (its claim ran out and passed to another, whose reply counts)."""
    dropped = await session.execute(delete(VoiceNote).where(_held(note, owner)))
    return bool(dropped.rowcount)  # type: ignore[attr-defined]
