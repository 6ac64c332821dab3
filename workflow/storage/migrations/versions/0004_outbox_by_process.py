"""outbox rows found by process and stage (cancelling a stage's queued reminders)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 12:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_process_stage", "outbox", ["process_id", "stage_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_process_stage", table_name="outbox")
