"""promo codes: percentage, fixed per market or free delivery; dates, limits, products and
categories; one redemption per order; the order's discount (issue 27)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'promo_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('percent', sa.Integer(), nullable=True),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('max_uses', sa.Integer(), nullable=True),
        sa.Column('max_uses_per_phone', sa.Integer(), nullable=True),
        sa.Column('uses', sa.Integer(), server_default='0', nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('percent', 'fixed', 'free_delivery')", name=op.f('ck_promo_code_kind_known')),
        sa.CheckConstraint('percent IS NULL OR (percent >= 1 AND percent <= 100)',
                           name=op.f('ck_promo_code_percent_range')),
        sa.CheckConstraint('uses >= 0', name=op.f('ck_promo_code_uses_nonnegative')),
        sa.CheckConstraint('max_uses IS NULL OR uses <= max_uses', name=op.f('ck_promo_code_uses_within_max')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_code')),
        sa.UniqueConstraint('code', name=op.f('uq_promo_code_code')),
    )
    op.create_table(
        'promo_market',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('promo_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_off', sa.BigInteger(), nullable=True),
        sa.Column('min_subtotal', sa.BigInteger(), server_default='0', nullable=False),
        sa.CheckConstraint('amount_off IS NULL OR amount_off > 0', name=op.f('ck_promo_market_amount_off_positive')),
        sa.CheckConstraint('min_subtotal >= 0', name=op.f('ck_promo_market_min_subtotal_nonnegative')),
        sa.ForeignKeyConstraint(['promo_id'], ['promo_code.id'], name=op.f('fk_promo_market_promo_id_promo_code'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_market')),
        sa.UniqueConstraint('promo_id', 'currency', name=op.f('uq_promo_market_promo_id')),
    )
    op.create_table(
        'promo_product',
        sa.Column('promo_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['promo_id'], ['promo_code.id'], name=op.f('fk_promo_product_promo_id_promo_code'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_promo_product_product_id_product'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('promo_id', 'product_id', name=op.f('pk_promo_product')),
    )
    op.create_table(
        'promo_category',
        sa.Column('promo_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['promo_id'], ['promo_code.id'], name=op.f('fk_promo_category_promo_id_promo_code'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['category_id'], ['category.id'],
                                name=op.f('fk_promo_category_category_id_category'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('promo_id', 'category_id', name=op.f('pk_promo_category')),
    )
    op.create_table(
        'promo_redemption',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('promo_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('released', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['promo_id'], ['promo_code.id'],
                                name=op.f('fk_promo_redemption_promo_id_promo_code')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_promo_redemption_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_redemption')),
        sa.UniqueConstraint('order_id', name=op.f('uq_promo_redemption_order_id')),
    )
    op.create_index('ix_promo_redemption_promo_id', 'promo_redemption', ['promo_id'])
    op.create_index('ix_promo_redemption_phone', 'promo_redemption', ['phone'])
    # plain ADD COLUMN with its CHECK (no batch copy of orders: SQLite's foreign keys refuse it)
    op.execute("ALTER TABLE orders ADD COLUMN discount BIGINT DEFAULT 0 NOT NULL "
               "CONSTRAINT ck_orders_discount_nonnegative CHECK (discount >= 0)")
    op.add_column('orders', sa.Column('promo_code', sa.String(length=32), server_default='', nullable=False))


def downgrade():
    op.execute("ALTER TABLE orders DROP COLUMN promo_code")
    op.execute("ALTER TABLE orders DROP COLUMN discount")
    op.drop_index('ix_promo_redemption_phone', table_name='promo_redemption')
    op.drop_index('ix_promo_redemption_promo_id', table_name='promo_redemption')
    for table in ('promo_redemption', 'promo_category', 'promo_product', 'promo_market', 'promo_code'):
        op.drop_table(table)
