"""Voice reports waiting for their transcript: kept until the draft is in the reporter's chat."""

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class VoiceNote(Base):
    """A voice message taken but not yet heard. A process claims it for a while; a stop that
    cuts the transcription off gives it back, and a crash lets the claim run out, so the next
    process (or another replica) hears it instead of the note being lost."""

    __tablename__ = "voice_notes"
    __table_args__ = (Index("ix_voice_notes_claimed_until", "claimed_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    """The sender's Telegram id: the draft's conversation state is kept under it."""
    file_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    """The language the sender was answered in when the note came."""
    received_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    """Claims that ended without a draft (a failed download, a crash); given-back ones don't
    count."""
