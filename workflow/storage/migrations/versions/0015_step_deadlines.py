"""tasks.step_deadline: an approval step's own deadline, planned on its body's meeting
calendar when the step is requested (NULL: the stage's deadline)

Revision ID: 0015_step_deadlines
Revises: 0017_plan_changes
Create Date: 2026-11-29 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_step_deadlines"
down_revision = "0017_plan_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("step_deadline", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("step_deadline")
