"""categories: an English name, a visibility switch and an optional photo (the dashboard's categories, issue 32)

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-07 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # plain ALTER TABLE (no batch copy: SQLite would have to drop a table products point to)
    op.add_column('category', sa.Column('name_en', sa.String(length=120), server_default='', nullable=False))
    op.add_column('category', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('category', sa.Column('image_digest', sa.String(length=32), server_default='', nullable=False))
    op.add_column('category', sa.Column('image_width', sa.Integer(), server_default='0', nullable=False))
    op.add_column('category', sa.Column('image_height', sa.Integer(), server_default='0', nullable=False))
    op.add_column('category', sa.Column('image_widths', sa.String(length=40), server_default='', nullable=False))


def downgrade():
    for column in ('image_widths', 'image_height', 'image_width', 'image_digest', 'active', 'name_en'):
        op.execute(f"ALTER TABLE category DROP COLUMN {column}")
