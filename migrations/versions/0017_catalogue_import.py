"""catalogue import: a previewed CSV file kept until the merchant confirms it (issue 26)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'catalogue_import',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('admin_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('stock_seen', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['admin_id'], ['admin_user.id'], name=op.f('fk_catalogue_import_admin_id_admin_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_import')),
        sa.UniqueConstraint('token', name=op.f('uq_catalogue_import_token')),
    )


def downgrade():
    op.drop_table('catalogue_import')
