"""Repair tickets and their append-only event log."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.domain.enums import TicketKind, TicketStatus, Urgency
from bot.models.asset import Asset
from bot.models.base import Base, str_enum
from bot.models.org import Department, Staff

ticket_helpers = Table(
    "ticket_helpers",
    Base.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
)
"""Engineers invited to work a ticket alongside its assignee."""


class Ticket(Base):
    """One fault report (or a due inspection, which has no reporter); its id is the number people
    quote (#id)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_reporter_status", "reporter_id", "status"),
        Index("ix_tickets_status_resolved_at", "status", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TicketKind] = mapped_column(str_enum(TicketKind), default=TicketKind.REPAIR)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), default=Urgency.NORMAL)
    fault_type: Mapped[str] = mapped_column(String(40), default="general")
    device_type: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus), default=TicketStatus.NEW)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    assigned_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    on_site_at: Mapped[datetime | None]
    sent_out_at: Mapped[datetime | None]
    back_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    self_help_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_articles.id", use_alter=True)
    )
    """Set when the reporter fixed it with a self-help article before any engineer came."""

    reporter: Mapped[Staff | None] = relationship(foreign_keys=[reporter_id], lazy="joined")
    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    asset: Mapped[Asset | None] = relationship(lazy="joined")
    helpers: Mapped[list[Staff]] = relationship(secondary=ticket_helpers, lazy="selectin")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def number(self) -> int:
        return self.id

    @property
    def helper_ids(self) -> frozenset[int]:
        return frozenset(helper.id for helper in self.helpers)


class TicketEvent(Base):
    """Who did what to a ticket, when. Rows are only ever inserted."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    to_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
