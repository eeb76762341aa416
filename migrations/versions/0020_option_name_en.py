"""option names in English: "Size" beside "Taille" for English-speaking customers (issue 26)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 16:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product_option') as batch:
        batch.add_column(sa.Column('name_en', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('product_option') as batch:
        batch.drop_column('name_en')
