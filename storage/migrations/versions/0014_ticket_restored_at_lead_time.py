"""tickets: the first resolution (restored_at) and a lead time an agent extended (lead_time)

A P1's RFO and RCA count from the first resolution, which a rejected resolution does not move;
tickets resolved before this revision take their current resolution as the first. An RFC or RFI
that became a project gets a longer lead time ("10bd") instead of the profile's.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("restored_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lead_time", sa.String(length=12), nullable=True))
    op.execute(
        "UPDATE tickets SET restored_at = resolved_at WHERE resolved_at IS NOT NULL AND status IN ('resolved', 'closed')"
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("lead_time")
        batch_op.drop_column("restored_at")
