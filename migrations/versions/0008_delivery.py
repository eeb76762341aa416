"""delivery zones and pickup points, the order's delivery and fulfilment status, merchant e-mails

Existing orders get no delivery method and the fulfilment status "not_applicable".

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-29 14:00:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None

FULFILMENT_STATUSES = ("'not_applicable', 'unfulfilled', 'preparing', 'shipped', 'ready_for_pickup', "
                       "'delivered', 'picked_up'")
DELIVERY_METHODS = "'home', 'pickup'"


def upgrade():
    op.create_table(
        'delivery_zone',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('fee', sa.BigInteger(), nullable=False),
        sa.Column('free_from', sa.BigInteger(), nullable=True),
        sa.Column('delay_min_days', sa.Integer(), nullable=False),
        sa.Column('delay_max_days', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('fee >= 0', name=op.f('ck_delivery_zone_fee_nonnegative')),
        sa.CheckConstraint('free_from IS NULL OR free_from > 0', name=op.f('ck_delivery_zone_free_from_positive')),
        sa.CheckConstraint('delay_min_days >= 0 AND delay_max_days >= delay_min_days',
                           name=op.f('ck_delivery_zone_delay_ordered')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_zone')),
    )
    op.create_index('ix_delivery_zone_currency_active', 'delivery_zone', ['currency', 'active'])
    op.create_table(
        'pickup_point',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=False),
        sa.Column('opening_hours', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pickup_point')),
    )
    op.create_index('ix_pickup_point_currency_active', 'pickup_point', ['currency', 'active'])
    with warnings.catch_warnings():
        # SQLite's batch mode cannot reflect the expression index on orders; made again after.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        _orders_and_outbox()
    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_email_lower ON orders (lower(customer_email))")


def _orders_and_outbox():
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('delivery_method', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('delivery_zone_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('pickup_point_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('delivery_label', sa.String(length=200), nullable=False, server_default=''))
        batch.add_column(sa.Column('delivery_city', sa.String(length=80), nullable=False, server_default=''))
        batch.add_column(sa.Column('delivery_address', sa.String(length=300), nullable=False, server_default=''))
        batch.add_column(sa.Column('delivery_fee', sa.BigInteger(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('fulfilment_status', sa.String(length=20), nullable=False,
                                   server_default='not_applicable'))
        batch.add_column(sa.Column('courier', sa.String(length=80), nullable=False, server_default=''))
        batch.add_column(sa.Column('tracking_note', sa.String(length=200), nullable=False, server_default=''))
        batch.create_foreign_key(op.f('fk_orders_delivery_zone_id_delivery_zone'), 'delivery_zone',
                                 ['delivery_zone_id'], ['id'])
        batch.create_foreign_key(op.f('fk_orders_pickup_point_id_pickup_point'), 'pickup_point',
                                 ['pickup_point_id'], ['id'])
        batch.create_index('ix_orders_delivery_zone_id', ['delivery_zone_id'])
        batch.create_index('ix_orders_pickup_point_id', ['pickup_point_id'])
        batch.create_index('ix_orders_fulfilment_paid_at', ['fulfilment_status', 'paid_at'])
        batch.create_check_constraint(op.f('ck_orders_fulfilment_status_known'),
                                      f"fulfilment_status IN ({FULFILMENT_STATUSES})")
        batch.create_check_constraint(op.f('ck_orders_delivery_method_known'),
                                      f"delivery_method IS NULL OR delivery_method IN ({DELIVERY_METHODS})")
        batch.create_check_constraint(op.f('ck_orders_delivery_fee_nonnegative'), "delivery_fee >= 0")
    with op.batch_alter_table('outbox_email') as batch:
        batch.alter_column('order_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        op.execute("DELETE FROM outbox_email WHERE order_id IS NULL")
        with op.batch_alter_table('outbox_email') as batch:
            batch.alter_column('order_id', existing_type=sa.Integer(), nullable=False)
        with op.batch_alter_table('orders') as batch:
            for name in ('ck_orders_delivery_fee_nonnegative', 'ck_orders_delivery_method_known',
                         'ck_orders_fulfilment_status_known'):
                batch.drop_constraint(op.f(name), type_='check')
            batch.drop_index('ix_orders_fulfilment_paid_at')
            batch.drop_index('ix_orders_pickup_point_id')
            batch.drop_index('ix_orders_delivery_zone_id')
            batch.drop_constraint(op.f('fk_orders_pickup_point_id_pickup_point'), type_='foreignkey')
            batch.drop_constraint(op.f('fk_orders_delivery_zone_id_delivery_zone'), type_='foreignkey')
            for name in ('tracking_note', 'courier', 'fulfilment_status', 'delivery_fee', 'delivery_address',
                         'delivery_city', 'delivery_label', 'pickup_point_id', 'delivery_zone_id',
                         'delivery_method'):
                batch.drop_column(name)
    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_email_lower ON orders (lower(customer_email))")
    op.drop_index('ix_pickup_point_currency_active', table_name='pickup_point')
    op.drop_table('pickup_point')
    op.drop_index('ix_delivery_zone_currency_active', table_name='delivery_zone')
    op.drop_table('delivery_zone')
