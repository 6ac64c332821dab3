"""answers.by_mail and answers.mail (an answer received by mail and confirmed by the
secretariat); inbound_mail.applied_at (when the engine took in a matched reply)

Revision ID: 0014_answers_by_mail
Revises: 0013_user_feed_token
Create Date: 2026-11-29 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.storage.models

revision = "0014_answers_by_mail"
down_revision = "0013_user_feed_token"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(
            sa.Column("by_mail", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("mail", sa.JSON(), nullable=True))
    with op.batch_alter_table("inbound_mail") as batch:
        batch.add_column(
            sa.Column(
                "applied_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=True
            )
        )
    # replies stored before this version were never taken in by the engine: leave them so
    # (the secretariat sees them on the Indbakke), rather than acting on old mail now
    op.execute(
        "UPDATE inbound_mail SET applied_at = received_at WHERE applied_at IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("inbound_mail") as batch:
        batch.drop_column("applied_at")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("mail")
        batch.drop_column("by_mail")
