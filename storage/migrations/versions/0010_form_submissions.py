"""form submissions: a one-shot card is used once

A form card pressed twice (a double tap, two people, a replayed submission) made two tickets.
A one-shot card's press claims its message id here, in the handler's transaction.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_submissions",
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("number", sa.String(length=200), nullable=True),
        sa.Column("submitted_by", sa.String(length=320), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )


def downgrade() -> None:
    op.drop_table("form_submissions")
