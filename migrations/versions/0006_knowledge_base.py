"""Knowledge base: articles written from past fixes, and their search terms.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=True),
        sa.Column("asset_type", sa.String(length=60), nullable=True),
        sa.Column("self_service", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("self_solved", sa.Integer(), nullable=False),
        sa.Column("suggested", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_kb_articles_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_kb_articles_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_articles_asset_type"), ["asset_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_articles_model"), ["model"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_articles_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "kb_terms",
        sa.Column("term", sa.String(length=40), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_terms_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "article_id", name=op.f("pk_kb_terms")),
    )
    with op.batch_alter_table("kb_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_terms_article_id"), ["article_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kb_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_terms_article_id"))

    op.drop_table("kb_terms")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_articles_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_model"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_asset_type"))

    op.drop_table("kb_articles")
