"""users.feed_token_hash: the SHA-256 of a user's private calendar-feed address (the secret
itself is shown once and never stored); issuing a new one replaces it, clearing it revokes it

Revision ID: 0013_user_feed_token
Revises: 0012_workshop_signups
Create Date: 2026-11-29 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.storage.models

revision = "0013_user_feed_token"
down_revision = "0012_workshop_signups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("feed_token_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "feed_token_created_at",
                workflow.storage.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch.create_unique_constraint("uq_users_feed_token_hash", ["feed_token_hash"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_feed_token_hash", type_="unique")
        batch.drop_column("feed_token_created_at")
        batch.drop_column("feed_token_hash")
