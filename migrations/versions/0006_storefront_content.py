"""storefront content: product pictures in the database, English texts, folded search column

Revision ID: 0006
Revises: 0010
Create Date: 2026-11-29 13:20:00

Moves ``product.image`` (a file under static/) into ``product_image`` rows: PNG, JPEG and
WebP files found on disk are resized into variants (services/images.py); the SVG
placeholders of the demo are dropped (``flask seed-demo`` draws the demo pictures).
On PostgreSQL, a trigram index serves the catalogue search when ``pg_trgm`` can be created.
"""
import os
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0010'
branch_labels = None
depends_on = None

STATIC = os.path.join(os.path.dirname(__file__), '..', '..', 'static')
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "’": "'", "ʼ": "'"})


def fold(text):
    """services.search.fold as of this revision (copied: a migration must not change later)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold().translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def upgrade():
    op.create_table(
        'image_blob',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_image_blob')),
    )
    op.create_table(
        'product_image',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=32), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('widths', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('is_main', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_image_product_id_product'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_image')),
    )
    op.create_index('ix_product_image_product_position', 'product_image', ['product_id', 'position'])
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('description_en', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    _fill_search_text()
    _move_image_files()
    # Plain ALTER TABLE (SQLite >= 3.35 has DROP COLUMN): a batch copy of ``product`` would
    # be refused by SQLite's foreign keys once prices and order lines point at it.
    op.execute("ALTER TABLE product DROP COLUMN image")
    _trigram_index()


def _fill_search_text():
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, name, description FROM product")).all()
    for row in rows:
        conn.execute(sa.text("UPDATE product SET search_text = :t WHERE id = :id"),
                     {"t": fold(f"{row.name} {row.description}"), "id": row.id})


def _move_image_files():
    """Uploaded PNG/JPEG/WebP files become pictures; missing files and SVGs are left out."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, image FROM product WHERE image <> ''")).all()
    if not rows:
        return
    from datetime import datetime, timezone

    from media.images import ImageError, process  # Pillow only: no app, no session

    blob = sa.table('image_blob', sa.column('key'), sa.column('content_type'), sa.column('data'),
                    sa.column('created_at', sa.DateTime(timezone=True)))
    picture = sa.table('product_image', *(sa.column(c) for c in (
        'product_id', 'digest', 'width', 'height', 'widths', 'position', 'is_main')),
        sa.column('created_at', sa.DateTime(timezone=True)))
    now = datetime.now(timezone.utc)
    for row in rows:
        path = os.path.normpath(os.path.join(STATIC, row.image))
        if row.image.lower().endswith('.svg') or not os.path.isfile(path):
            continue
        try:
            with open(path, 'rb') as handle:
                done = process(handle.read())
        except ImageError:
            continue
        for key, (content_type, data) in done.variants.items():
            if conn.execute(sa.select(blob.c.key).where(blob.c.key == key)).first() is None:
                conn.execute(blob.insert().values(key=key, content_type=content_type, data=data,
                                                  created_at=now))
        conn.execute(picture.insert().values(
            product_id=row.id, digest=done.digest, width=done.width, height=done.height,
            widths=",".join(map(str, done.widths)), position=0, is_main=True, created_at=now))


def _trigram_index():
    """PostgreSQL: a GIN trigram index for LIKE '%word%', when pg_trgm can be had."""
    conn = op.get_bind()
    if conn.dialect.name != 'postgresql':
        return
    savepoint = conn.begin_nested()
    try:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        conn.execute(sa.text(
            "CREATE INDEX ix_product_search_text_trgm ON product USING gin (search_text gin_trgm_ops)"))
        savepoint.commit()
    except sa.exc.DBAPIError:
        savepoint.rollback()  # no pg_trgm here: search still works, by sequential scan


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_product_search_text_trgm"))
    op.add_column('product', sa.Column('image', sa.String(length=200), server_default='', nullable=False))
    for column in ('search_text', 'description_en', 'name_en'):
        op.execute(f"ALTER TABLE product DROP COLUMN {column}")
    op.drop_index('ix_product_image_product_position', table_name='product_image')
    op.drop_table('product_image')
    op.drop_table('image_blob')
