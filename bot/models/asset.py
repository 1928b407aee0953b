"""Devices the IT department looks after."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.domain.enums import AssetStatus
from bot.models.base import Base, str_enum
from bot.models.org import Department


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(120))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    location: Mapped[str] = mapped_column(String(200), default="")
    purchased_on: Mapped[date | None]
    status: Mapped[AssetStatus] = mapped_column(
        str_enum(AssetStatus), default=AssetStatus.IN_SERVICE
    )

    inspected_at: Mapped[datetime | None]
    """When an inspection ticket for it was last resolved; None: never inspected by us."""

    department: Mapped[Department] = relationship(lazy="joined")


class AssetEvent(Base):
    """One step of an asset's life cycle, with who moved it and why. Rows are only inserted."""

    __tablename__ = "asset_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    from_status: Mapped[AssetStatus] = mapped_column(str_enum(AssetStatus))
    to_status: Mapped[AssetStatus] = mapped_column(str_enum(AssetStatus))
    reason: Mapped[str] = mapped_column(Text, default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
