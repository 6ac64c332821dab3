"""answers.questionnaire_version: the version of the questionnaire an answer answered (a
running process may move to a changed questionnaire; its answers keep their version)

Revision ID: 0021_answer_q_version
Revises: 0016_contacts
Create Date: 2026-11-29 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_answer_q_version"
down_revision = "0016_contacts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("questionnaire_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("questionnaire_version")
