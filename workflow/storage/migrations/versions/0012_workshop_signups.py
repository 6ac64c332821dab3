"""workshop sign-ups (participants, waiting list, attendance) and workshop conclusions

Revision ID: 0012_workshop_signups
Revises: 0011_stage_report_sent
Create Date: 2026-11-29 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.storage.models

revision = "0012_workshop_signups"
down_revision = "0011_stage_report_sent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workshop_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.String(length=100), nullable=False),
        sa.Column("workshop_id", sa.String(length=100), nullable=False),
        sa.Column("party", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "signed_up_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("promoted_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "cancelled_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_id", "stage_id", "workshop_id", "seq"),
    )
    op.create_index(
        "ix_workshop_signups_party",
        "workshop_signups",
        ["process_id", "stage_id", "workshop_id", "party"],
    )
    op.create_table(
        "workshop_conclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.String(length=100), nullable=False),
        sa.Column("workshop_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("challenges", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("recommendations", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("saved_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_id", "stage_id", "workshop_id", "version"),
    )


def downgrade() -> None:
    # Plain DROPs on SQLite and PostgreSQL alike: no existing table is altered.
    op.drop_table("workshop_conclusions")
    op.drop_index("ix_workshop_signups_party", table_name="workshop_signups")
    op.drop_table("workshop_signups")
