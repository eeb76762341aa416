"""The catalogue as one CSV file: export it, and import it back after a preview (issue 26).

The format (docs/catalogue-csv.md) is one row per variant; a product without options is one row.
``handle`` (the product's slug) groups the rows of a product. The product's own columns (names,
descriptions, category, on sale, low-stock threshold, IremboPay code, option names, ``price_XXX``)
are read from its first row; on its other rows they are empty or the same. ``variant_price_XXX``
is a variant's own price, overriding the product's ``price_XXX`` in that market. Prices are in
major units ("12.50", "12,50"), stored as integer minor units. ``stock`` is the variant's
absolute stock (units on sale).

Reading takes UTF-8 (with or without BOM) or Excel's Windows-1252, separated by commas,
semicolons or tabs (sniffed from the first row). An import is planned first (``preview``:
every row's errors, every product created / updated / unchanged), nothing written; the file's
bytes and the stock the preview showed wait server-side (models.CatalogueImport) until the
merchant confirms, and ``confirm`` reads those same bytes again, checks again and writes every
product in one transaction, or nothing. Products go through shop.products and their variants
through shop.variants, with the same checks as the dashboard's forms; stock moves by the
difference from what the preview showed, so units customers reserved meanwhile stay reserved,
and a move that would go below zero (stock that lost a race) fails the whole import.
Products missing from the file are left alone; a product's variants missing from its rows are
deleted (refused for a variant already in orders).

Every message (file errors, row errors, the preview's changes, a confirm's failure) is written
with Flask-Babel's gettext when it is made, in the request's language (core.i18n.select_locale):
a French merchant reads the preview in French. Column names stay as they are: they are the file.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from config import MARKETS
from core.spreadsheet import plain_cell, safe_cell
from extensions import db
from models import CatalogueImport, Category, Product, Variant, utcnow
from models.catalog import MAX_OPTIONS, variant_label
from providers.base import to_major
from shop import products as product_service
from shop import variants as variant_service
from shop.products import STOCK_MAX, ProductData, ProductError, slugify, to_minor
from shop.variants import VariantError, VariantRow

#: The largest file read, and the most rows (variants) in it.
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
#: A preview waits this long for its confirm.
PREVIEW_HOURS = 24
#: The product form's limits (blueprints/admin/forms.py), kept by the import too.
NAME_MAX, HANDLE_MAX, DESCRIPTION_MAX, CODE_MAX = 200, 120, 5000, 64

PRODUCT_COLUMNS = ("handle", "name_fr", "name_en", "description_fr", "description_en", "category", "active",
                   "low_stock_threshold", "irembopay_product_code")
YES = {"yes", "y", "true", "1", "oui", "o", "vrai"}
NO = {"no", "n", "false", "0", "non", "faux"}
#: Where shop.products and shop.variants name a problem, in the file's columns.
PRODUCT_FIELDS = {"name": "name_fr", "slug": "handle", "category_id": "category",
                  **{c: f"price_{c}" for c in MARKETS}}
VARIANT_FIELDS = {"options": "option1_name", "values": "option1_value", "sku": "sku", "stock": "stock",
                  "variants": "handle", "delete": "handle", "image": "handle",
                  **{f"price_{c}": f"variant_price_{c}" for c in MARKETS}}


def columns() -> list[str]:
    """The file's columns, in the order the export writes them."""
    names = [*PRODUCT_COLUMNS, *(f"price_{c}" for c in MARKETS)]
    for i in range(1, MAX_OPTIONS + 1):
        names += [f"option{i}_name", f"option{i}_value"]
    return [*names, "sku", "stock", *(f"variant_price_{c}" for c in MARKETS)]


def shared_columns() -> list[str]:
    """The product's own columns: read from its first row, empty or the same on the others."""
    return [*PRODUCT_COLUMNS[1:], *(f"price_{c}" for c in MARKETS),
            *(f"option{i}_name" for i in range(1, MAX_OPTIONS + 1))]


class CatalogueFileError(ValueError):
    """The file cannot be read at all (empty, binary, too large, not the format): the reason."""


class PreviewGone(LookupError):
    """No such preview for this merchant: already imported, replaced by a newer one, or expired."""


class ImportFailed(RuntimeError):
    """The confirm wrote nothing; ``preview`` is the file planned again against today's catalogue."""

    def __init__(self, message: str, preview: Preview):
        super().__init__(message)
        self.preview = preview


@dataclass
class RowError:
    row: int  # the spreadsheet's row number: the header is row 1
    column: str
    message: str


@dataclass
class Record:
    row: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


@dataclass
class ProductPlan:
    """What the import does to one product (``action``: create, update or unchanged)."""

    handle: str
    name: str
    rows: list[int]
    action: str = "unchanged"
    changes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    product_id: int | None = None
    data: ProductData | None = None
    prices: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    variant_rows: list[VariantRow] = field(default_factory=list)


@dataclass
class Plan:
    products: list[ProductPlan]
    file_errors: list[RowError] = field(default_factory=list)
    #: {variant id: stock} of every variant the file names, as planned.
    seen: dict[int, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[RowError]:
        every = [*self.file_errors, *(e for p in self.products for e in p.errors)]
        return sorted(every, key=lambda e: (e.row, columns().index(e.column) if e.column in columns() else -1))

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for p in self.products if p.action == action)

    @property
    def changed(self) -> bool:
        return any(p.action != "unchanged" for p in self.products)


@dataclass
class Preview:
    plan: Plan
    filename: str
    token: str | None  # None: nothing to confirm (errors, or no change)


# reading

def read(data: bytes) -> tuple[list[Record], list[RowError]]:
    """The file's rows by column (blank rows skipped), and the rows that have too many cells."""
    if len(data) > MAX_BYTES:
        raise CatalogueFileError(_("The file is larger than %(size)s KB: split it into several files.",
                                   size=MAX_BYTES // 1024))
    if not data.strip():
        raise CatalogueFileError(_("The file is empty."))
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
        wanted = _check_header(header)
        records: list[Record] = []
        errors: list[RowError] = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(records) >= MAX_ROWS:
                raise CatalogueFileError(_("The file has more than %(count)s rows: split it into several files.",
                                           count=format_number(MAX_ROWS)))
            if any(c.strip() for c in cells[len(header):]):
                errors.append(RowError(number, "handle", _(
                    "This row has %(cells)s cells; the first row names %(columns)s columns.",
                    cells=len(cells), columns=len(header))))
            records.append(Record(number, {wanted[i]: plain_cell(c) for i, c in enumerate(cells[:len(header)])
                                           if i in wanted}))
    except csv.Error as exc:
        raise CatalogueFileError(_("Row %(row)s cannot be read as CSV (%(reason)s).", row=reader.line_num,
                                   reason=exc)) from None
    if not records:
        raise CatalogueFileError(_("The file names its columns but has no product row."))
    return records, errors


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise CatalogueFileError(_("This is not a CSV file (it holds binary data): save the sheet as "
                                   "“CSV UTF-8” or “CSV (semicolon separated)”."))
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # Excel's "CSV (semicolon separated)" on a French Windows
    except UnicodeDecodeError:
        raise CatalogueFileError(_("The file is neither UTF-8 nor Windows (Excel) text: save it as "
                                   "“CSV UTF-8”.")) from None


def _delimiter(text: str) -> str:
    """The separator used in the first row: the most frequent of ; , and tab."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _check_header(header: list[str]) -> dict[int, str]:
    """The column named at each position; CatalogueFileError unless every column is there once."""
    known = {c.lower(): c for c in columns()}
    found: dict[int, str] = {}
    unknown, twice = [], []
    for i, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff").lower()
        if not name:
            continue
        if name not in known:
            unknown.append(raw.strip()[:40])
        elif known[name] in found.values():
            twice.append(known[name])
        else:
            found[i] = known[name]
    missing = [c for c in columns() if c not in found.values()]
    if unknown or twice or missing:
        parts = ([_("missing %(columns)s", columns=", ".join(missing))] if missing else []) + \
                ([_("unknown %(columns)s", columns=", ".join(unknown[:10]))] if unknown else []) + \
                ([_("twice %(columns)s", columns=", ".join(twice))] if twice else [])
        raise CatalogueFileError(_("The first row must name the catalogue's columns (start from an export): "
                                   "%(problems)s.", problems="; ".join(parts)))
    return found


# planning

def plan(records: list[Record], file_errors: list[RowError] | None = None,
         seen: dict[int, int] | None = None) -> Plan:
    """What importing these rows would do, writing nothing. ``seen``: the stock a preview
    showed (a confirm's plan moves stock from there)."""
    result = Plan(products=[], file_errors=list(file_errors or []))
    groups: dict[str, list[Record]] = {}
    for record in records:
        handle = record.get("handle")
        if not handle:
            result.file_errors.append(RowError(record.row, "handle",
                                               _("Give the product's handle (its address, e.g. savon-noir).")))
            continue
        groups.setdefault(handle, []).append(record)
    stored = _products(list(groups))
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    result.file_errors += _sku_clashes(groups)
    for handle, group in groups.items():
        product = stored.get(handle)
        result.products.append(_plan_product(handle, group, product, categories, seen, result.seen))
    return result


def _products(handles: list[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for start in range(0, len(handles), 500):
        stmt = select(Product).where(Product.slug.in_(handles[start:start + 500])).options(
            selectinload(Product.prices), selectinload(Product.options), selectinload(Product.images),
            selectinload(Product.category), selectinload(Product.variants).selectinload(Variant.prices))
        found.update({p.slug: p for p in db.session.scalars(stmt)})
    return found


def _sku_clashes(groups: dict[str, list[Record]]) -> list[RowError]:
    """A SKU on rows of two products (shop.variants checks those of one product)."""
    first: dict[str, tuple[str, int]] = {}
    errors = []
    for handle, group in groups.items():
        for record in group:
            sku = record.get("sku")
            if not sku:
                continue
            other = first.setdefault(sku.casefold(), (handle, record.row))
            if other[0] != handle:
                errors.append(RowError(record.row, "sku", _("The SKU %(sku)s is also on row %(row)s (%(handle)s).",
                                                            sku=sku, row=other[1], handle=other[0])))
    return errors


def _plan_product(handle: str, group: list[Record], product: Product | None, categories: dict[str, Category],
                  seen: dict[int, int] | None, all_seen: dict[int, int]) -> ProductPlan:
    first = group[0]
    item = ProductPlan(handle=handle, name=first.get("name_fr") or first.get("name_en") or handle,
                       rows=[r.row for r in group], product_id=product.id if product else None)

    def error(record: Record, column: str, message: str) -> None:
        item.errors.append(RowError(record.row, column, message))

    for record in group[1:]:
        for column in shared_columns():
            if record.get(column) and record.get(column) != first.get(column):
                error(record, column, _("Differs from the product's first row (row %(row)s): "
                                        "leave it empty on its other rows.", row=first.row))
    data = _product_data(handle, first, categories, error)
    names = _option_names(first, error)
    rows, numbers = _variant_rows(group, product, seen, error)
    if item.errors or data is None or names is None:
        return item
    item.data, item.names, item.variant_rows = data, names, rows
    item.prices = {c: to_minor(v, c) for c, v in data.prices.items() if v}
    try:
        product_service.check_product(data, product)
    except ProductError as exc:
        error(first, PRODUCT_FIELDS.get(exc.field, "handle"), str(exc))
        return item
    try:
        variant_service.check(product, names, rows)
    except VariantError as exc:
        row = group[numbers[exc.row]] if exc.row is not None and exc.row < len(numbers) else first
        error(row, VARIANT_FIELDS.get(exc.field, "handle"), str(exc))
        return item
    all_seen.update({r.id: r.stock_seen for r in rows if r.id is not None and r.stock_seen is not None})
    item.changes = _changes(product, item, categories) if product else _creation(item)
    item.action = "create" if product is None else "update" if item.changes else "unchanged"
    return item


def _product_data(handle: str, first: Record, categories: dict[str, Category], error) -> ProductData | None:
    failed = False

    def refuse(column: str, message: str) -> None:
        nonlocal failed
        failed = True
        error(first, column, message)

    if len(handle) > HANDLE_MAX or slugify(handle) != handle:
        refuse("handle", _("A handle is made of lower-case letters, digits and dashes (e.g. savon-noir), "
                           "at most %(most)s.", most=HANDLE_MAX))
    texts = {c: first.get(c) for c in ("name_fr", "name_en", "description_fr", "description_en",
                                       "irembopay_product_code")}
    for column, most in (("name_fr", NAME_MAX), ("name_en", NAME_MAX), ("description_fr", DESCRIPTION_MAX),
                         ("description_en", DESCRIPTION_MAX), ("irembopay_product_code", CODE_MAX)):
        if len(texts[column]) > most:
            refuse(column, _("At most %(most)s characters.", most=format_number(most)))
    active = first.get("active").lower()
    if active not in YES | NO:
        refuse("active", _("Write yes or no (on sale or not)."))
    try:
        threshold = _whole(first.get("low_stock_threshold"))
    except ValueError:
        threshold = None
        refuse("low_stock_threshold", _("A whole number from 0 to %(most)s, or empty for the shop's default.",
                                        most=format_number(STOCK_MAX)))
    slug = first.get("category")
    category = categories.get(slug) if slug else None
    if slug and category is None:
        refuse("category", _("No category has the slug %(slug)s: create it on the Categories page first, "
                             "or leave the cell empty.", slug=slug[:80]))
    prices = {c: _number(first.get(f"price_{c}")) for c in MARKETS}
    for currency, typed in prices.items():
        if typed:
            try:
                to_minor(typed, currency)
            except ProductError as exc:
                refuse(f"price_{currency}", str(exc))
    if failed:
        return None
    return ProductData(name=texts["name_fr"], slug=handle, description=texts["description_fr"],
                       category_id=category.id if category else None, stock=0, active=active in YES,
                       irembopay_product_code=texts["irembopay_product_code"], prices=prices,
                       name_en=texts["name_en"], description_en=texts["description_en"],
                       low_stock_threshold=threshold)


def _option_names(first: Record, error) -> list[str] | None:
    raw = [first.get(f"option{i}_name") for i in range(1, MAX_OPTIONS + 1)]
    if any(not raw[i] and any(raw[i + 1:]) for i in range(MAX_OPTIONS)):
        error(first, "option1_name", _("Name the options from option1_name on, with no gap."))
        return None
    try:
        return variant_service.option_names(raw)
    except VariantError as exc:
        error(first, "option1_name", str(exc))
        return None


def _variant_rows(group: list[Record], product: Product | None, seen: dict[int, int] | None,
                  error) -> tuple[list[VariantRow], list[int]]:
    """The rows as shop.variants takes them, each matched to a stored variant by SKU, else by its
    option values; the stored variants no row names, to delete. Also each row's index in ``group``."""
    stored = product.variants if product else []
    by_sku = {v.sku.casefold(): v for v in stored if v.sku}
    by_values = {tuple(x.casefold() for x in v.values): v for v in stored}
    used: dict[int, int] = {}
    rows, numbers = [], []
    for index, record in enumerate(group):
        values = tuple(" ".join(record.get(f"option{i}_value").split()) for i in range(1, MAX_OPTIONS + 1))
        sku = record.get("sku")
        try:
            units = _whole(record.get("stock")) or 0
        except ValueError:
            units = 0
            error(record, "stock", _("A whole number from 0 to %(most)s.", most=format_number(STOCK_MAX)))
        prices = {c: _number(record.get(f"variant_price_{c}")) for c in MARKETS}
        for currency, typed in prices.items():
            if typed:
                try:
                    to_minor(typed, currency)
                except ProductError as exc:
                    error(record, f"variant_price_{currency}", str(exc))
        match = by_sku.get(sku.casefold()) if sku else None
        if match is None:
            match = by_values.get(tuple(x.casefold() for x in values if x))
        if match is None and index == 0 and len(stored) == 1 and not stored[0].values:
            match = stored[0]  # a product given options: its default variant becomes the first row's
        if match is not None and match.id in used:
            error(record, "sku" if sku else "option1_value",
                  _("Row %(row)s is this variant already.", row=used[match.id]))
            match = None
        if match is not None:
            used[match.id] = record.row
        rows.append(VariantRow(
            id=match.id if match else None, values=values, sku=sku, stock=units,
            stock_seen=(seen.get(match.id, match.stock) if seen is not None else match.stock) if match else None,
            prices={c: v for c, v in prices.items() if v}, image_id=match.image_id if match else None, meant=True))
        numbers.append(index)
    rows += [VariantRow(id=v.id, values=v.values, delete=True) for v in stored if v.id not in used]
    return rows, numbers


def _whole(text: str) -> int | None:
    """A whole number from 0 to STOCK_MAX ("1 200" too); None when empty; ValueError when not one."""
    text = _number(text)
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 7) or int(text) > STOCK_MAX:
        raise ValueError(text)
    return int(text)


def _number(text: str) -> str:
    """A number as typed, without the spaces a French spreadsheet puts between thousands."""
    return "".join(text.split()).replace("\u202f", "")


def _creation(item: ProductPlan) -> list[str]:
    kept = [r for r in item.variant_rows if not r.delete]
    if not item.names:
        return [_("stock %(stock)s", stock=kept[0].stock)]
    return [_("%(count)s variants (%(options)s), stock %(stock)s", count=len(kept), options=", ".join(item.names),
              stock=sum(r.stock for r in kept))]


def _change(what: str, old: object, new: object) -> str:
    """One changed value, as the preview lists it ("price XOF: 15000 → 16000")."""
    return _("%(what)s: %(old)s → %(new)s", what=what, old=old, new=new)


def _changes(product: Product, item: ProductPlan, categories: dict[str, Category]) -> list[str]:
    """What the update changes, one short line each ("price XOF: 15000 → 16000")."""
    data = item.data
    assert data is not None
    changes = []
    slugs = {c.id: c.slug for c in categories.values()}
    for label, old, new in (
        (_("French name"), product.name, data.name), (_("English name"), product.name_en, data.name_en),
        (_("category"), slugs.get(product.category_id or 0, ""), slugs.get(data.category_id or 0, "")),
        (_("on sale"), _said_yes(product.active), _said_yes(data.active)),
        (_("low stock at"), _or_default(product.low_stock_threshold), _or_default(data.low_stock_threshold)),
        (_("IremboPay code"), product.irembopay_product_code or "", data.irembopay_product_code),
    ):
        if old != new:
            changes.append(_change(label, _short(old), _short(new)))
    for label, old, new in ((_("French description changed"), product.description, data.description),
                            (_("English description changed"), product.description_en, data.description_en)):
        if (old or "") != new:
            changes.append(label)
    changes += _price_changes(_("price"), {p.currency: p.amount for p in product.prices}, item.prices)
    stored_names = [o.name for o in product.options]
    if stored_names != item.names:
        changes.append(_change(_("options"), ", ".join(stored_names) or _("none"), ", ".join(item.names) or _("none")))
    stored = {v.id: v for v in product.variants}
    kept = [r for r in item.variant_rows if not r.delete]
    for row in kept:
        label = variant_label(row.values) or _("default variant")
        variant = stored.get(row.id) if row.id is not None else None
        if variant is None:
            changes.append(_("new variant %(variant)s: stock %(stock)s", variant=label, stock=row.stock))
            continue
        if tuple(variant.values) != tuple(row.values):
            changes.append(_("variant %(old)s → %(new)s", old=variant.label or _("default"), new=label))
        if (variant.sku or "") != row.sku:
            changes.append(_change(_("SKU %(variant)s", variant=label), variant.sku or _("none"), row.sku or _("none")))
        if row.stock != row.stock_seen:
            changes.append(_change(_("stock %(variant)s", variant=label), row.stock_seen, row.stock))
        own = {c: to_minor(v, c) for c, v in row.prices.items()}
        changes += _price_changes(_("own price %(variant)s", variant=label),
                                  {p.currency: p.amount for p in variant.prices}, own)
    changes += [_("removes variant %(variant)s", variant=stored[r.id].label or _("default"))
                for r in item.variant_rows if r.delete and r.id in stored]
    if [r.id for r in kept if r.id is not None] != [v.id for v in product.variants if v.id in {r.id for r in kept}]:
        changes.append(_("variants in a new order"))
    return changes


def _price_changes(label: str, old: dict[str, int], new: dict[str, int]) -> list[str]:
    return [_change(f"{label} {c}", _major(old[c], c) if c in old else _("none"),
                    _major(new[c], c) if c in new else _("none"))
            for c in MARKETS if old.get(c) != new.get(c)]


def _yes(value: bool) -> str:
    """``active`` as the file writes it (the format: never translated)."""
    return "yes" if value else "no"


def _said_yes(value: bool) -> str:
    """``active`` as the preview says it, in the merchant's language."""
    return _("yes") if value else _("no")


def _or_default(value) -> str:
    return _("the shop's default") if value is None else str(value)


def _short(text: str) -> str:
    text = text or _("(empty)")
    return text if len(text) <= 60 else text[:57] + "…"


def _major(amount: int, currency: str, comma: bool = False) -> str:
    text = format(to_major(amount, currency), "f")
    return text.replace(".", ",") if comma else text


# writing

def apply(result: Plan) -> None:
    """Write a plan without errors in one transaction (committed), or nothing (ImportFailed's
    message says why; the session is rolled back)."""
    assert result.ok, "a plan with errors is never applied"
    todo = [p for p in result.products if p.action != "unchanged"]
    ids = sorted(p.product_id for p in todo if p.product_id is not None)
    handle = ""
    try:
        for start in range(0, len(ids), 500):  # checkout's order: variants (by id), then products
            db.session.execute(select(Variant.id).where(Variant.product_id.in_(ids[start:start + 500]))
                               .order_by(Variant.id).with_for_update())
        for item in todo:
            handle = item.handle
            assert item.data is not None
            if item.product_id is None:
                product = Product(variants=[])
                product_service.set_fields(product, item.data, item.prices)
                db.session.add(product)
                db.session.flush()
            else:
                product = db.session.get_one(Product, item.product_id)
                product_service.set_fields(product, item.data, item.prices)
            variant_service.stage(product, item.names, item.variant_rows)
        db.session.commit()
    except (VariantError, ProductError) as exc:
        db.session.rollback()
        raise ImportFailed(_("Nothing was imported: %(handle)s: %(reason)s", handle=handle, reason=exc),
                           Preview(result, "", None)) from None
    except (IntegrityError, OperationalError):
        db.session.rollback()
        raise ImportFailed(_("Nothing was imported: the database refused a change (two products or variants "
                             "would clash, or another change was saved at the same moment)."),
                           Preview(result, "", None)) from None


def preview(data: bytes, filename: str, admin_id: int) -> Preview:
    """Read and plan an uploaded file (CatalogueFileError when it cannot be read); when it can
    be imported, keep it for ``confirm`` (replacing this merchant's older previews)."""
    records, errors = read(data)
    result = plan(records, errors)
    filename = filename[:200]
    _forget(admin_id)
    token = None
    if result.ok and result.changed:
        token = secrets.token_urlsafe(32)
        db.session.add(CatalogueImport(token=token, admin_id=admin_id, filename=filename, content=data,
                                       stock_seen=json.dumps(result.seen)))
    db.session.commit()
    return Preview(result, filename, token)


def confirm(token: str, admin_id: int) -> Preview:
    """Import the previewed file: the same bytes read and checked again, then all of it in one
    transaction. PreviewGone when there is no such preview; ImportFailed when nothing was
    written (with the file planned again against today's catalogue, to confirm again or fix)."""
    kept = db.session.scalar(select(CatalogueImport).where(
        CatalogueImport.token == token, CatalogueImport.admin_id == admin_id,
        CatalogueImport.created_at > utcnow() - timedelta(hours=PREVIEW_HOURS)).with_for_update())
    if kept is None:
        db.session.rollback()
        raise PreviewGone(token)
    filename, content = kept.filename, kept.content
    seen = {int(k): int(v) for k, v in json.loads(kept.stock_seen or "{}").items()}
    try:
        records, errors = read(content)
    except CatalogueFileError:  # the limits changed since the preview
        db.session.delete(kept)
        db.session.commit()
        raise PreviewGone(token) from None
    result = plan(records, errors, seen)
    if not result.ok:
        db.session.delete(kept)
        db.session.commit()
        raise ImportFailed(_("Nothing was imported: the catalogue changed since the preview, and these rows "
                             "cannot be imported any more."), Preview(result, filename, None))
    db.session.delete(kept)  # in the import's transaction: a second confirm finds nothing
    try:
        apply(result)
    except ImportFailed as exc:
        again = preview(content, filename, admin_id)  # the stock as it is now, to confirm again
        raise ImportFailed(str(exc), again) from None
    return Preview(result, filename, None)


def _forget(admin_id: int) -> None:
    """Drop this merchant's previews and everyone's expired ones."""
    db.session.execute(delete(CatalogueImport).where(or_(
        CatalogueImport.admin_id == admin_id,
        CatalogueImport.created_at <= utcnow() - timedelta(hours=PREVIEW_HOURS))))


def export(excel_fr: bool = False) -> Iterator[str]:
    """The whole catalogue in the import's format, a batch of products at a time: UTF-8 with a
    BOM, commas and decimal points; ``excel_fr``: semicolons and decimal commas, as a French
    Excel opens it. Text cells that a spreadsheet would run as a formula start with "'"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel_fr else ",", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns())
    stmt = (select(Product).options(
        selectinload(Product.prices), selectinload(Product.options), selectinload(Product.category),
        selectinload(Product.variants).selectinload(Variant.prices))
        .order_by(Product.slug).execution_options(yield_per=200))
    for partition in db.session.scalars(stmt).partitions():
        for product in partition:
            writer.writerows(_export_rows(product, excel_fr))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def _export_rows(product: Product, comma: bool) -> list[list[str]]:
    names = {o.position: o.name for o in product.options}
    prices = {p.currency: _major(p.amount, p.currency, comma) for p in product.prices}
    shared = {"name_fr": product.name, "name_en": product.name_en, "description_fr": product.description,
              "description_en": product.description_en,
              "category": product.category.slug if product.category else "", "active": _yes(product.active),
              "low_stock_threshold": "" if product.low_stock_threshold is None else str(product.low_stock_threshold),
              "irembopay_product_code": product.irembopay_product_code or "",
              **{f"price_{c}": prices.get(c, "") for c in MARKETS},
              **{f"option{i + 1}_name": names.get(i, "") for i in range(MAX_OPTIONS)}}
    rows = []
    for index, variant in enumerate(product.variants):
        own = {p.currency: _major(p.amount, p.currency, comma) for p in variant.prices}
        cells = {"handle": product.slug, **(shared if index == 0 else {}),
                 "option1_value": variant.option1, "option2_value": variant.option2,
                 "option3_value": variant.option3, "sku": variant.sku or "", "stock": str(variant.stock),
                 **{f"variant_price_{c}": own.get(c, "") for c in MARKETS}}
        rows.append([safe_cell(cells.get(c, "")) for c in columns()])
    return rows
