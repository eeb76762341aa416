"""cash on delivery / pay at pickup: per zone and pickup point a cash flag and maximum, and the
payment method the customer chose on each order (issue 27)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, each CHECK in its own column's definition (SQLite and PostgreSQL both take
    # it; a batch copy of ``orders`` would be refused by SQLite's foreign keys), as in 0015.
    for table in ('delivery_zone', 'pickup_point'):
        op.add_column(table, sa.Column('cash_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        op.execute(f"ALTER TABLE {table} ADD COLUMN cash_max BIGINT "
                   f"CONSTRAINT ck_{table}_cash_max_positive CHECK (cash_max IS NULL OR cash_max > 0)")
    op.execute("ALTER TABLE orders ADD COLUMN payment_method VARCHAR(10) DEFAULT 'gateway' NOT NULL "
               "CONSTRAINT ck_orders_payment_method_known CHECK (payment_method IN ('gateway', 'cash'))")


def downgrade():
    op.execute("ALTER TABLE orders DROP COLUMN payment_method")
    for table in ('pickup_point', 'delivery_zone'):
        op.execute(f"ALTER TABLE {table} DROP COLUMN cash_max")
        op.execute(f"ALTER TABLE {table} DROP COLUMN cash_enabled")
