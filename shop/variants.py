"""A product's options and variants as the merchant edits them: up to three option names (Taille,
Couleur…) and one variant per combination offered, each with its SKU, stock, optional prices per
market (overriding the product's) and an optional photo among the product's.

Saving is all or nothing: every row is checked first (VariantError names the row and the field),
then the product's variants are locked (the same order a checkout takes them in: variants, then
the product), stock moves by the difference from what the form showed (units customers reserved
meanwhile are not given back twice), and the product's total is set to the sum.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from config import MARKETS
from extensions import db
from models import OrderLine, Product, ProductOption, Variant, VariantPrice
from models.catalog import MAX_OPTIONS
from shop import stock
from shop.products import STOCK_MAX, ProductError, set_prices, to_minor

OPTION_MAX = 40
VALUE_MAX = 60
SKU_MAX = 64
#: The most variants one product may have (a wide size × colour grid fits).
MAX_VARIANTS = 100


class VariantError(ProductError):
    """A row cannot be saved; ``row`` is its index on the form (None: the option names)."""

    def __init__(self, message: str, field: str = "", row: int | None = None):
        super().__init__(message, field)
        self.row = row


@dataclass
class VariantRow:
    """One row of the form: an existing variant (``id``) or a new one (``id`` None)."""

    id: int | None
    values: tuple[str, ...]  # one per option, in option order
    sku: str = ""
    stock: int = 0
    #: The stock the form showed for an existing variant (None: a new one).
    stock_seen: int | None = None
    prices: dict[str, str] = field(default_factory=dict)  # currency → major units as typed
    image_id: int | None = None
    delete: bool = False
    #: A row its caller means even when it holds nothing (a CSV row: a product's default variant
    #: with no SKU and no stock); the form's spare rows are not.
    meant: bool = False

    @property
    def blank(self) -> bool:
        """An unused "new variant" row: nothing typed."""
        return not self.meant and self.id is None and not any(self.values) and not self.sku and not self.stock \
            and not any(v.strip() for v in self.prices.values())


def option_names(raw: list[str]) -> list[str]:
    """The option names typed, blanks dropped, checked (at most three, distinct, short)."""
    names = [" ".join(n.split()) for n in raw if n and n.strip()]
    if len(names) > MAX_OPTIONS:
        raise VariantError(_("At most %(most)s options.", most=MAX_OPTIONS), "options")
    if any(len(n) > OPTION_MAX for n in names):
        raise VariantError(_("An option name has at most %(most)s characters.", most=OPTION_MAX), "options")
    if len({n.casefold() for n in names}) != len(names):
        raise VariantError(_("Two options have the same name."), "options")
    return names


def english_names(raw: list[str], raw_en: list[str]) -> list[str]:
    """The English names typed beside the option names, aligned with ``option_names(raw)``
    (an English name beside a blank option is dropped with it); "" where none was typed."""
    english = [" ".join((en or "").split()) for name, en in zip(raw, [*raw_en, "", "", ""], strict=False)
               if name and name.strip()]
    if any(len(n) > OPTION_MAX for n in english):
        raise VariantError(_("An option name has at most %(most)s characters.", most=OPTION_MAX), "options")
    return english


def save(product: Product, names: list[str], rows: list[VariantRow], names_en: list[str] | None = None) -> None:
    """Store the options and variants (all or nothing; VariantError, nothing written).
    ``names_en``, beside ``names``: their English names; None leaves those as they are."""
    stage(product, names, rows, names_en)
    db.session.commit()


def check(product: Product | None, names: list[str], rows: list[VariantRow]) -> None:
    """Check what ``save`` would store, writing nothing (VariantError on the first problem).
    ``product`` None: the rows of a product not created yet (no variants, no photos)."""
    names = option_names(names)
    kept = [(i, r) for i, r in enumerate(rows) if not r.delete and not r.blank]
    existing = {v.id: v for v in product.variants} if product is not None else {}
    _check_rows(product, names, kept, existing)
    _check_deletable([existing[r.id] for r in rows if r.delete and r.id in existing])


def stage(product: Product, names: list[str], rows: list[VariantRow], names_en: list[str] | None = None) -> None:
    """``save`` without its commit, for a caller saving several products in one transaction
    (shop.catalog_csv): on VariantError the session is rolled back or nothing was written."""
    english = english_names(names, names_en) if names_en is not None else None
    names = option_names(names)
    kept = [(i, r) for i, r in enumerate(rows) if not r.delete and not r.blank]
    existing = {v.id: v for v in product.variants}
    _check_rows(product, names, kept, existing)
    deleted = [existing[r.id] for r in rows if r.delete and r.id in existing]
    _check_deletable(deleted)

    # lock the product's variants (checkout's order: variants, then the product), then move
    db.session.execute(select(Variant.id).where(Variant.product_id == product.id)
                       .order_by(Variant.id).with_for_update())
    _set_options(product, names, english)
    for variant in deleted:
        product.variants.remove(variant)
    position = 0
    for _index, row in kept:
        found = existing.get(row.id) if row.id is not None else None
        padded = (*row.values, "", "", "")[:MAX_OPTIONS]
        if found is None:
            variant = Variant(stock=row.stock)
            product.variants.append(variant)
        else:
            variant = found
            delta = row.stock - (row.stock_seen if row.stock_seen is not None else variant.stock)
            if delta:
                moved = db.session.execute(
                    update(Variant).where(Variant.id == variant.id, Variant.stock + delta >= 0,
                                          Variant.stock + delta <= STOCK_MAX)
                    .values(stock=Variant.stock + delta).execution_options(synchronize_session=False))
                if moved.rowcount != 1:
                    db.session.rollback()
                    raise VariantError(_("Customers reserved some of this stock meanwhile: reload and try again."),
                                       "stock", _index)
                db.session.expire(variant, ["stock"])
        variant.option1, variant.option2, variant.option3 = padded
        variant.sku = row.sku or None
        variant.position = position
        variant.image_id = row.image_id
        set_prices(variant, {c: to_minor(v, c) for c, v in row.prices.items() if c in MARKETS and v.strip()},
                   VariantPrice)
        position += 1
    db.session.flush()
    db.session.execute(update(Product).where(Product.id == product.id).values(
        stock=select(func.coalesce(func.sum(Variant.stock), 0)).where(Variant.product_id == product.id)
        .scalar_subquery()).execution_options(synchronize_session=False))
    db.session.expire(product, ["stock"])
    stock.refresh_low_marks(product)


def combinations(values: list[list[str]], have: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Every combination of the options' values (S, M × Rouge, Bleu) not offered yet."""
    lists = [[" ".join(v.split()) for v in vs if v.strip()] for vs in values if vs]
    if not lists or any(not vs for vs in lists):
        return []
    seen = {tuple(x.casefold() for x in h) for h in have}
    return [combo for combo in itertools.product(*lists) if tuple(x.casefold() for x in combo) not in seen]


def _check_rows(product: Product | None, names: list[str], kept: list[tuple[int, VariantRow]],
                existing: dict[int, Variant]) -> None:
    if not kept:
        raise VariantError(_("Keep at least one variant (a product without options has one)."), "variants")
    if len(kept) > MAX_VARIANTS:
        raise VariantError(_("At most %(most)s variants per product.", most=MAX_VARIANTS), "variants")
    if not names and len(kept) > 1:
        raise VariantError(_("Several variants need at least one option (e.g. Taille) to tell them apart."),
                           "options")
    images = {i.id for i in product.images} if product is not None else set()
    combos: set[tuple[str, ...]] = set()
    skus: set[str] = set()
    for index, row in kept:
        if row.id is not None and row.id not in existing:
            raise VariantError(_("This variant is not this product's any more: reload the page."), "variants", index)
        values = tuple(" ".join(v.split()) for v in row.values)
        if any(len(v) > VALUE_MAX for v in values):
            raise VariantError(_("An option value has at most %(most)s characters.", most=VALUE_MAX), "values", index)
        if any(values[len(names):]):
            raise VariantError(_("A value is given for an option that has no name."), "values", index)
        if any(not v for v in values[:len(names)]) or len(values) < len(names):
            raise VariantError(_("Give this variant a value for %(options)s.", options=", ".join(names)),
                               "values", index)
        row.values = values[:len(names)]
        key = tuple(v.casefold() for v in row.values)
        if key in combos:
            raise VariantError(_("Two variants are %(values)s.", values=" / ".join(row.values)) if row.values
                               else _("Two variants are the same."), "values", index)
        combos.add(key)
        row.sku = row.sku.strip()
        if len(row.sku) > SKU_MAX:
            raise VariantError(_("A SKU has at most %(most)s characters.", most=SKU_MAX), "sku", index)
        if row.sku:
            if row.sku.casefold() in skus:
                raise VariantError(_("Two variants have the SKU %(sku)s.", sku=row.sku), "sku", index)
            skus.add(row.sku.casefold())
            clash = db.session.scalar(select(Variant.product_id).where(func.lower(Variant.sku) == row.sku.lower(),
                                                                        Variant.id != (row.id or 0)))
            if clash is not None:
                raise VariantError(_("The SKU %(sku)s is already another variant's.", sku=row.sku), "sku", index)
        if not 0 <= row.stock <= STOCK_MAX:
            raise VariantError(_("The stock goes from 0 to %(most)s.", most=format_number(STOCK_MAX)), "stock", index)
        if row.image_id is not None and row.image_id not in images:
            raise VariantError(_("Choose one of this product's photos."), "image", index)
        for currency, typed in row.prices.items():
            if currency in MARKETS and typed.strip():
                try:
                    to_minor(typed, currency)
                except ProductError as exc:
                    raise VariantError(str(exc), f"price_{currency}", index) from None


def _check_deletable(deleted: list[Variant]) -> None:
    for variant in deleted:
        if db.session.scalar(select(OrderLine.id).where(OrderLine.variant_id == variant.id).limit(1)):
            raise VariantError(_("%(variant)s is in orders, so it stays: set its stock to 0 to stop selling it.",
                                 variant=variant.label) if variant.label else
                               _("This variant is in orders, so it stays: set its stock to 0 to stop selling it."),
                               "delete")


def _set_options(product: Product, names: list[str], english: list[str] | None = None) -> None:
    by_position = {o.position: o for o in product.options}
    for position in range(MAX_OPTIONS):
        option = by_position.get(position)
        if position < len(names):
            if option is None:
                option = ProductOption(position=position, name=names[position])
                product.options.append(option)
            else:
                option.name = names[position]
            if english is not None:
                option.name_en = english[position] or None
        elif option is not None:
            product.options.remove(option)
