"""image uploads: a product photo waiting for a worker to resize it (issue 29)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'image_upload',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('is_main', sa.Boolean(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_image_upload_product_id_product'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_image_upload')),
    )
    op.create_index(op.f('ix_image_upload_product_id'), 'image_upload', ['product_id'])


def downgrade():
    op.drop_index(op.f('ix_image_upload_product_id'), table_name='image_upload')
    op.drop_table('image_upload')
