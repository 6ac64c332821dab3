"""the secretariat's summary per section of a questionnaire report, with versions

Revision ID: 0009_report_summaries
Revises: 0004
Create Date: 2026-11-25 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.storage.models


revision = "0009_report_summaries"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.String(length=100), nullable=False),
        sa.Column("section", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("saved_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_id", "stage_id", "section", "version"),
    )


def downgrade() -> None:
    # A plain DROP TABLE on SQLite and PostgreSQL alike (no table is altered, so SQLite's
    # batch mode, which env.py turns on for every migration, has nothing to copy).
    op.drop_table("report_summaries")
