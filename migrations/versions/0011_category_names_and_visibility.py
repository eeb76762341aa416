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
    with op.batch_alter_table('category') as batch:
        batch.add_column(sa.Column('name_en', sa.String(length=120), server_default='', nullable=False))
        batch.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('category') as batch:
        batch.drop_column('active')
        batch.drop_column('name_en')
