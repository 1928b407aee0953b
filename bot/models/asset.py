"""Devices the IT department looks after."""

from datetime import date

from sqlalchemy import ForeignKey, String
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

    department: Mapped[Department] = relationship(lazy="joined")
