"""Messages waiting to leave: written with the change that caused them, sent by a worker."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, str_enum


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    """A PNG to send as a photo, `text` its caption (charts: a few tens of kB)."""
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class SummaryRun(Base):
    """The daily summary was queued for this local day: once, across restarts and processes."""

    __tablename__ = "summary_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    queued_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """A Telegram update already handled: a redelivered one (same `update_id`, to this replica
    or another) finds its row and does nothing twice. Old rows are purged."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(index=True)
