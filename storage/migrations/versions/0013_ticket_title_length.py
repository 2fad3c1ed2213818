"""ticket titles up to 4,000 characters: an RFI's question and a complaint are their titles

The RFI and complaint forms take 4,000 characters, which PostgreSQL refused in a 200-character
column. SQLite enforces no VARCHAR length, so its column keeps its declaration: changing it would
rebuild the table, which SQLite allows under foreign keys only outside a transaction.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "tickets", "title", type_=sa.String(4000), existing_type=sa.String(200), existing_nullable=False
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE tickets SET title = left(title, 200) WHERE length(title) > 200")
        op.alter_column(
            "tickets", "title", type_=sa.String(200), existing_type=sa.String(4000), existing_nullable=False
        )
