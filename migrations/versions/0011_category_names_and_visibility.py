"""categories: an English name and a visibility switch (the dashboard's categories, issue 32)

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


def downgrade():
    for column in ('active', 'name_en'):
        op.execute(f"ALTER TABLE category DROP COLUMN {column}")
