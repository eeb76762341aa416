"""catalogue version counter (cache invalidation across processes); covering index for the
dashboard's per-currency totals

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-29 13:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'catalog_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_version')),
    )
    op.bulk_insert(table, [{'id': 1, 'version': 1}])
    op.create_index('ix_orders_totals', 'orders', ['currency', 'status', 'created_at', 'total'], unique=False)


def downgrade():
    op.drop_index('ix_orders_totals', table_name='orders')
    op.drop_table('catalog_version')
