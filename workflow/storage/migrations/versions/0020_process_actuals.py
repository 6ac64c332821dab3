"""processes.actuals: the recorded completions of stages that later stages follow (their
dates, KKR's decided focus areas), so a slip moves what follows (``workflow.follows``)

Revision ID: 0020_process_actuals
Revises: 0021_answer_q_version
Create Date: 2026-11-29 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_process_actuals"
down_revision = "0021_answer_q_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("actuals", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("actuals")
