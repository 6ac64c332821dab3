"""stages.report_sent_at: when the compiled report went to a meeting's invitees (a meeting
stage's ``send_report``), so the planner sends it once

Revision ID: 0011_stage_report_sent
Revises: 0010_process_row_token
Create Date: 2026-11-29 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.storage.models

revision = "0011_stage_report_sent"
down_revision = "0010_process_row_token"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stages") as batch:
        batch.add_column(
            sa.Column(
                "report_sent_at",
                workflow.storage.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("stages") as batch:
        batch.drop_column("report_sent_at")
