"""contacts (the parties' contacts as live data, seeded from the party registry when a process
starts or a contact first changes); links.kept (a link that stays working after its task's
link was re-issued to a new contact)

Revision ID: 0016_contacts
Revises: 0015_step_deadlines
Create Date: 2026-11-29 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.storage.models

revision = "0016_contacts"
down_revision = "0015_step_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registry_id", sa.String(length=100), nullable=False),
        sa.Column("party", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "changed_at", workflow.storage.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_contacts_registry_party", "contacts", ["registry_id", "party", "role"], unique=False
    )
    with op.batch_alter_table("links") as batch:
        batch.add_column(
            sa.Column("kept", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("kept")
    op.drop_index("ix_contacts_registry_party", table_name="contacts")
    op.drop_table("contacts")
