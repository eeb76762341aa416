"""payment links: a link (/p/<code>) is one order; free order lines (no product)

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-29 13:40:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

LINK_STATUSES = "'open', 'paid', 'expired', 'cancelled'"


def upgrade():
    op.create_table(
        'payment_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('delivery_method', sa.String(length=64), nullable=True),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN ({LINK_STATUSES})", name=op.f('ck_payment_link_status_known')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_link_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_link')),
        sa.UniqueConstraint('code', name=op.f('uq_payment_link_code')),
        sa.UniqueConstraint('order_id', name=op.f('uq_payment_link_order_id')),
    )
    op.create_index('ix_payment_link_status_created_at', 'payment_link', ['status', 'created_at'])
    with warnings.catch_warnings():
        # SQLite's batch mode cannot reflect the expression index on orders (through the
        # foreign key); it is made again after.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table('order_line') as batch:
            batch.alter_column('product_id', existing_type=sa.Integer(), nullable=True)
    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_email_lower ON orders (lower(customer_email))")


def downgrade():
    op.drop_index('ix_payment_link_status_created_at', table_name='payment_link')
    op.drop_table('payment_link')
    op.execute("DELETE FROM order_line WHERE product_id IS NULL")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table('order_line') as batch:
            batch.alter_column('product_id', existing_type=sa.Integer(), nullable=False)
    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_email_lower ON orders (lower(customer_email))")
