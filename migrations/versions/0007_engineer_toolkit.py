"""The engineer's toolkit: helpers, repair reports, vendor repairs, spare loans, the asset life
cycle log, inspection tickets (no reporter) and self-help closures.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = ("in_service", "spare", "in_repair", "sent_out", "on_loan", "scrapped")


def _asset_status() -> sa.Enum:
    return sa.Enum(*_STATUS, name="assetstatus", native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "ticket_helpers",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_ticket_helpers_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_helpers_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "staff_id", name=op.f("pk_ticket_helpers")),
    )
    op.create_table(
        "repair_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_repair_reports_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_repair_reports_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_reports")),
    )
    op.create_index(
        op.f("ix_repair_reports_ticket_id"), "repair_reports", ["ticket_id"], unique=False
    )
    op.create_table(
        "vendor_repairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("vendor", sa.String(length=120), nullable=False),
        sa.Column("expected_back", sa.Date(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=False),
        sa.Column("back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_vendor_repairs_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["staff.id"], name=op.f("fk_vendor_repairs_received_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"], ["staff.id"], name=op.f("fk_vendor_repairs_sent_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_vendor_repairs_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_repairs")),
    )
    op.create_index(
        op.f("ix_vendor_repairs_asset_id"), "vendor_repairs", ["asset_id"], unique=False
    )
    op.create_index(
        op.f("ix_vendor_repairs_ticket_id"), "vendor_repairs", ["ticket_id"], unique=False
    )
    op.create_table(
        "spare_loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spare_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("lent_by", sa.Integer(), nullable=False),
        sa.Column("lent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_spare_loans_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["lent_by"], ["staff.id"], name=op.f("fk_spare_loans_lent_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["returned_by"], ["staff.id"], name=op.f("fk_spare_loans_returned_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["spare_id"], ["assets.id"], name=op.f("fk_spare_loans_spare_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_spare_loans_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spare_loans")),
    )
    op.create_index("ix_spare_loans_returned_at", "spare_loans", ["returned_at"], unique=False)
    op.create_index(op.f("ix_spare_loans_spare_id"), "spare_loans", ["spare_id"], unique=False)
    op.create_index(op.f("ix_spare_loans_ticket_id"), "spare_loans", ["ticket_id"], unique=False)
    op.create_table(
        "asset_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("from_status", _asset_status(), nullable=False),
        sa.Column("to_status", _asset_status(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff.id"], name=op.f("fk_asset_events_actor_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_events_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_asset_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_events")),
    )
    op.create_index(op.f("ix_asset_events_asset_id"), "asset_events", ["asset_id"], unique=False)
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("repair", "inspection", name="ticketkind", native_enum=False, length=20),
                nullable=False,
                server_default="repair",
            )
        )
        batch_op.add_column(sa.Column("sent_out_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("back_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("self_help_article_id", sa.Integer(), nullable=True))
        batch_op.alter_column("reporter_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_self_help_article_id_kb_articles"),
            "kb_articles",
            ["self_help_article_id"],
            ["id"],
        )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_self_help_article_id_kb_articles"), type_="foreignkey"
        )
        batch_op.alter_column("reporter_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("self_help_article_id")
        batch_op.drop_column("back_at")
        batch_op.drop_column("sent_out_at")
        batch_op.drop_column("kind")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("inspected_at")
    op.drop_table("asset_events")
    op.drop_table("spare_loans")
    op.drop_table("vendor_repairs")
    op.drop_table("repair_reports")
    op.drop_table("ticket_helpers")
