"""processes.plan_changes: meetings and workshops moved, postponed or cancelled, and stage
deadlines moved for everyone, as the secretariat changed them (``workflow.live_plan``)

Revision ID: 0017_plan_changes
Revises: 0019_sent_messages
Create Date: 2026-11-29 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_plan_changes"
down_revision = "0019_sent_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("plan_changes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("plan_changes")
