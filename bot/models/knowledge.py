"""The knowledge base: past fixes written up as articles, and the terms that index them."""

from datetime import datetime

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class KbArticle(Base):
    """A fault and what fixed it, so the next engineer, or the ward itself, need not guess."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    symptom: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(120), index=True)
    asset_type: Mapped[str | None] = mapped_column(String(60), index=True)
    self_service: Mapped[bool] = mapped_column(default=False)
    # tickets.self_help_article_id points back here; use_alter breaks the cycle for table
    # ordering, and SET NULL lets the ticket go while its write-up stays.
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL", use_alter=True), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    self_solved: Mapped[int] = mapped_column(default=0)
    suggested: Mapped[int] = mapped_column(default=0)


class KbTerm(Base):
    """One index term of one article; the key starts with the term so lookups are index-only."""

    __tablename__ = "kb_terms"
    __table_args__ = (PrimaryKeyConstraint("term", "article_id"),)

    term: Mapped[str] = mapped_column(String(40))
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
