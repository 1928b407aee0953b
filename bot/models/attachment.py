"""Photos and voice messages kept with a ticket, by Telegram file id (Telegram stores the bytes)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, str_enum

if TYPE_CHECKING:
    from bot.models.ticket import Ticket


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"


class Attachment(Base):
    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(str_enum(AttachmentKind))
    file_id: Mapped[str] = mapped_column(String(255))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    added_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship()
    """Set instead of `ticket_id` for a ticket not yet flushed."""
