"""outbox for customer e-mails

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_email',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('dedupe_key', sa.String(length=80), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_outbox_email_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_email')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_email_dedupe_key')),
    )
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_email_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_email_order_id'), ['order_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_email_order_id'))
        batch_op.drop_index('ix_outbox_email_status_next')
    op.drop_table('outbox_email')
