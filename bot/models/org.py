"""The hospital: zones, departments and the staff who use the bot."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Select, String, Table, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from bot.domain.enums import Role
from bot.models.base import Base, str_enum

staff_zones = Table(
    "staff_zones",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("zone_id", ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True),
)


class Zone(Base):
    """An area of the hospital that a group of engineers covers."""

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    priority: Mapped[bool] = mapped_column(default=False)

    zone: Mapped[Zone] = relationship(lazy="joined")


class Staff(Base):
    """Anyone known to the bot; ward users register themselves as reporters."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.REPORTER)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    language: Mapped[str] = mapped_column(String(8), default="ko")
    on_duty: Mapped[bool] = mapped_column(default=False)
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    department: Mapped[Department | None] = relationship(lazy="joined")
    zones: Mapped[list[Zone]] = relationship(secondary=staff_zones, lazy="selectin")

    @classmethod
    def with_zones(cls) -> Select["Staff"]:
        """Staff with their zones in the same query (read it with `.unique()`): the zones' own
        second query (selectin) cost a round trip per read, and every update looks its sender
        up, every batch of reports reads its reporters and the engineers."""
        return select(cls).options(joinedload(cls.zones))

    @property
    def zone_names(self) -> frozenset[str]:
        return frozenset(zone.name for zone in self.zones)
