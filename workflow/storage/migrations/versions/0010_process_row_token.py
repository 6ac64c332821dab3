"""processes.row_token: drawn at random by every engine commit (the engine's kept state is
trusted only while version AND token are the ones it committed; a restored backup can repeat a
version with other content, never a token)

Revision ID: 0010_process_row_token
Revises: 0009_report_summaries
Create Date: 2026-11-29 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_process_row_token"
down_revision = "0007_inbound_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("row_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("row_token")
