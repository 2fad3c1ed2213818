"""maintenance

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 23:33:10.679526
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maintenances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("maintenances", schema=None) as batch_op:
        batch_op.create_index("ix_maintenances_status", ["status", "starts_at"], unique=False)

    op.create_table(
        "subscriptions",
        sa.Column("room_id", sa.String(length=300), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("room_id", "service"),
    )


def downgrade() -> None:
    op.drop_table("subscriptions")
    with op.batch_alter_table("maintenances", schema=None) as batch_op:
        batch_op.drop_index("ix_maintenances_status")

    op.drop_table("maintenances")
