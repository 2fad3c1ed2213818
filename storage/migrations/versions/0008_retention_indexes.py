"""retention: indexes on the columns that point at an outbox row

The retention deletes a sent message only when no ticket and no other message points at it;
these indexes answer that, and the foreign-key checks of the delete, without a table scan.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:30:00
"""

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_parent', 'outbox_messages', ['parent_outbox_id'])
    op.create_index('ix_outbox_target', 'outbox_messages', ['target_outbox_id'])
    op.create_index('ix_tickets_root_outbox', 'tickets', ['root_outbox_id'])


def downgrade() -> None:
    op.drop_index('ix_tickets_root_outbox', table_name='tickets')
    op.drop_index('ix_outbox_target', table_name='outbox_messages')
    op.drop_index('ix_outbox_parent', table_name='outbox_messages')
