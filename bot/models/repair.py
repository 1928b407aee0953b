"""What engineers record about the work: repair reports, vendor repairs and spare loans."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.asset import Asset
from bot.models.base import Base
from bot.models.org import Department, Staff

Money = Numeric(12, 2)


class RepairReport(Base):
    """Filed on resolve; a reopened ticket resolved again gets a second one."""

    __tablename__ = "repair_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    cause: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(Text)
    parts: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    minutes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]

    author: Mapped[Staff] = relationship(lazy="joined")


class VendorRepair(Base):
    """A device at an outside vendor: sent, expected back, back with a result."""

    __tablename__ = "vendor_repairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    vendor: Mapped[str] = mapped_column(String(120))
    expected_back: Mapped[date | None]
    sent_at: Mapped[datetime]
    sent_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    back_at: Mapped[datetime | None]
    received_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    result: Mapped[str | None] = mapped_column(String(20))
    cost: Mapped[Decimal | None] = mapped_column(Money)


class SpareLoan(Base):
    """A spare device lent to a ward while its own device is away; open until returned."""

    __tablename__ = "spare_loans"
    __table_args__ = (Index("ix_spare_loans_returned_at", "returned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    spare_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    lent_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    lent_at: Mapped[datetime]
    returned_at: Mapped[datetime | None]
    returned_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    spare: Mapped[Asset] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    lender: Mapped[Staff] = relationship(foreign_keys=[lent_by], lazy="joined")
