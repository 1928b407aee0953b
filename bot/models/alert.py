"""SLA reminders and escalations already sent: one row per ticket, stage, deadline and kind.

The unique key makes "exactly once" hold across restarts and between processes sharing the
database; a moved deadline (transfer, reopen, urgency change) is a new key, so it is chased too.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, str_enum


class AlertKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"


class SlaAlert(Base):
    __tablename__ = "sla_alerts"
    __table_args__ = (
        UniqueConstraint("ticket_id", "stage", "kind", "deadline", name="uq_sla_alerts_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind))
    deadline: Mapped[datetime]
    sent_at: Mapped[datetime]
