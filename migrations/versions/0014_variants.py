"""variants: product options, variants with their own SKU, stock, prices and photo; order lines
name the variant sold; low-stock thresholds (issue 26)

Every existing product gets one default variant holding its stock, and every existing order
line points at it, so stock is held and given back per variant from now on.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'product_option',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.CheckConstraint('position >= 0 AND position < 3', name=op.f('ck_product_option_position_range')),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_option_product_id_product'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_option')),
        sa.UniqueConstraint('product_id', 'position', name=op.f('uq_product_option_product_id')),
    )
    op.create_table(
        'variant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('sku', sa.String(length=64), nullable=True),
        sa.Column('option1', sa.String(length=60), server_default='', nullable=False),
        sa.Column('option2', sa.String(length=60), server_default='', nullable=False),
        sa.Column('option3', sa.String(length=60), server_default='', nullable=False),
        sa.Column('stock', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('image_id', sa.Integer(), nullable=True),
        sa.Column('low_stock_alerted', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint('stock >= 0', name=op.f('ck_variant_stock_nonnegative')),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_variant_product_id_product'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['image_id'], ['product_image.id'], name=op.f('fk_variant_image_id_product_image'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_variant')),
        sa.UniqueConstraint('sku', name=op.f('uq_variant_sku')),
        sa.UniqueConstraint('product_id', 'option1', 'option2', 'option3', name=op.f('uq_variant_product_id')),
    )
    op.create_index('ix_variant_product_position', 'variant', ['product_id', 'position'])
    op.create_table(
        'variant_price',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('variant_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_variant_price_amount_positive')),
        sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_variant_price_variant_id_variant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_variant_price')),
        sa.UniqueConstraint('variant_id', 'currency', name=op.f('uq_variant_price_variant_id')),
    )
    # plain ALTER TABLE (no batch copy: SQLite would have to drop tables others point to)
    op.add_column('product', sa.Column('low_stock_threshold', sa.Integer(), nullable=True))
    op.add_column('shop_settings', sa.Column('low_stock_threshold', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':  # SQLite adds a referencing column only inline
        op.execute("ALTER TABLE order_line ADD COLUMN variant_id INTEGER "
                   "CONSTRAINT fk_order_line_variant_id_variant REFERENCES variant (id)")
    else:
        op.add_column('order_line', sa.Column('variant_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_order_line_variant_id_variant'), 'order_line', 'variant',
                              ['variant_id'], ['id'])
    op.add_column('order_line', sa.Column('variant_name', sa.String(length=200), server_default='', nullable=False))

    # every product's stock moves to its default variant; its lines point at it
    op.execute("INSERT INTO variant (product_id, option1, option2, option3, stock, position, low_stock_alerted) "
               "SELECT id, '', '', '', stock, 0, false FROM product")
    op.execute("UPDATE order_line SET variant_id = "
               "(SELECT variant.id FROM variant WHERE variant.product_id = order_line.product_id) "
               "WHERE product_id IS NOT NULL")


def downgrade():
    for column in ('variant_name', 'variant_id'):
        op.execute(f"ALTER TABLE order_line DROP COLUMN {column}")
    op.execute("ALTER TABLE shop_settings DROP COLUMN low_stock_threshold")
    op.execute("ALTER TABLE product DROP COLUMN low_stock_threshold")
    op.drop_table('variant_price')
    op.drop_index('ix_variant_product_position', table_name='variant')
    op.drop_table('variant')
    op.drop_table('product_option')
