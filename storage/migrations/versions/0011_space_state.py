"""space state: active, suspended (the bot was removed) or unreachable (posting was refused)

The binding of a space the bot was removed from is kept, so adding the bot again restores it;
meanwhile nothing is sent there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spaces") as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=12), server_default="active", nullable=False))
        batch_op.add_column(sa.Column("state_changed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("spaces") as batch_op:
        batch_op.drop_column("state_changed_at")
        batch_op.drop_column("state")
