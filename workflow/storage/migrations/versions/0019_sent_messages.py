"""outbox.sent_message (the message as it was sent, for the dashboard's mail view) and
mail_files (files the secretariat attached to a mail it wrote)

Revision ID: 0019_sent_messages
Revises: 0014_answers_by_mail
Create Date: 2026-11-29 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.storage.models

revision = "0019_sent_messages"
down_revision = "0014_answers_by_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("sent_message", sa.LargeBinary(), nullable=True))
    op.create_table(
        "mail_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_id", "sha256"),
    )


def downgrade() -> None:
    op.drop_table("mail_files")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("sent_message")
