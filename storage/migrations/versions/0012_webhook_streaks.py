"""webhook streaks: the watchdog's back-off and its one alert per streak, shared by every process

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:30:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_streaks",
        sa.Column("hook_id", sa.String(length=300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("told_at", UTCDateTime(), nullable=True),
        sa.Column("active_since", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("hook_id"),
    )


def downgrade() -> None:
    op.drop_table("webhook_streaks")
