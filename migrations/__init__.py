"""Alembic revisions of the repairbot schema."""
