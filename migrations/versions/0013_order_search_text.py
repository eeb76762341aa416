"""orders.search_text: the customer's name and e-mail folded, for the dashboard's accent-blind search

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 11:10:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 1000
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "’": "'", "ʼ": "'"})


def fold(text):
    """core.search.fold as of this revision (copied: a migration must not change later)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold().translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def upgrade():
    # Plain ADD COLUMN (a batch copy of ``orders`` would be refused by SQLite's foreign keys).
    op.add_column('orders', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, customer_name, customer_email FROM orders WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH}).all()
        if not rows:
            break
        conn.execute(sa.text("UPDATE orders SET search_text = :t WHERE id = :id"),
                     [{"t": fold(" ".join(p for p in (r.customer_name, r.customer_email) if p)), "id": r.id}
                      for r in rows])
        last = rows[-1].id


def downgrade():
    op.execute("ALTER TABLE orders DROP COLUMN search_text")
