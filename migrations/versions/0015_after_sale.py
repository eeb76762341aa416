"""after the sale: refunds (received / refunded amounts on orders, one row per refund), the
merchant's cancel reason, and the SMS outbox

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

REFUND_METHODS = "'mobile_money', 'cash', 'bank_transfer', 'gateway', 'other'"


def upgrade():
    # Plain ADD COLUMN with its CHECK (SQLite and PostgreSQL both take a CHECK in ADD COLUMN;
    # a batch copy of ``orders`` would be refused by SQLite's foreign keys).
    op.execute("ALTER TABLE orders ADD COLUMN amount_received BIGINT DEFAULT 0 NOT NULL "
               "CONSTRAINT ck_orders_amount_received_nonnegative CHECK (amount_received >= 0)")
    op.execute("ALTER TABLE orders ADD COLUMN amount_refunded BIGINT DEFAULT 0 NOT NULL "
               "CONSTRAINT ck_orders_refund_within_received "
               "CHECK (amount_refunded >= 0 AND amount_refunded <= amount_received)")
    op.add_column('orders', sa.Column('cancel_reason', sa.String(length=200), server_default='', nullable=False))
    # Orders paid before this revision received their total; a refunded one gave it all back.
    op.execute("UPDATE orders SET amount_received = total WHERE status IN ('paid', 'refunded')")
    op.execute("UPDATE orders SET amount_refunded = total WHERE status = 'refunded'")
    op.create_table(
        'refund',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('reference', sa.String(length=120), nullable=False),
        sa.Column('lines', sa.String(length=500), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_refund_refund_amount_positive')),
        sa.CheckConstraint(f'method IN ({REFUND_METHODS})', name=op.f('ck_refund_refund_method_known')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refund_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refund')),
    )
    op.create_index('ix_refund_order_id', 'refund', ['order_id'])
    op.create_index('ix_refund_created_at', 'refund', ['created_at'])
    op.create_table(
        'outbox_sms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('dedupe_key', sa.String(length=80), nullable=False),
        sa.Column('to_number', sa.String(length=32), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('body', sa.String(length=480), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('provider_ref', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_outbox_sms_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_sms')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_sms_dedupe_key')),
    )
    op.create_index('ix_outbox_sms_status_next', 'outbox_sms', ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_sms_order_id', 'outbox_sms', ['order_id'])


def downgrade():
    op.drop_index('ix_outbox_sms_order_id', table_name='outbox_sms')
    op.drop_index('ix_outbox_sms_status_next', table_name='outbox_sms')
    op.drop_table('outbox_sms')
    op.drop_index('ix_refund_created_at', table_name='refund')
    op.drop_index('ix_refund_order_id', table_name='refund')
    op.drop_table('refund')
    op.execute("ALTER TABLE orders DROP COLUMN cancel_reason")
    # Each CHECK is its own column's (SQLite drops a column with its own CHECK, not one another
    # column's CHECK names): amount_refunded's names amount_received, so it goes first.
    op.execute("ALTER TABLE orders DROP COLUMN amount_refunded")
    op.execute("ALTER TABLE orders DROP COLUMN amount_received")
