"""shop settings the merchant edits in the dashboard: name, contact, checkout notes, pages, footer
links, logo (issue 32)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'shop_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), server_default='', nullable=False),
        sa.Column('contact', sa.String(length=300), server_default='', nullable=False),
        sa.Column('delivery_note', sa.Text(), server_default='', nullable=False),
        sa.Column('returns_note', sa.Text(), server_default='', nullable=False),
        sa.Column('about', sa.Text(), server_default='', nullable=False),
        sa.Column('returns_policy', sa.Text(), server_default='', nullable=False),
        sa.Column('terms', sa.Text(), server_default='', nullable=False),
        sa.Column('footer_links', sa.Text(), server_default='', nullable=False),
        sa.Column('logo_digest', sa.String(length=32), server_default='', nullable=False),
        sa.Column('logo_width', sa.Integer(), server_default='0', nullable=False),
        sa.Column('logo_height', sa.Integer(), server_default='0', nullable=False),
        sa.Column('logo_widths', sa.String(length=40), server_default='', nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_settings')),
    )


def downgrade():
    op.drop_table('shop_settings')
