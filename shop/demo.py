"""The demo catalogue: four categories, fourteen products, five markets.

Prices are integers in minor units: XOF, XAF and RWF have no minor unit; NGN
is in kobo and USD in cents. ``seed_demo`` is idempotent: it adds what is
missing and leaves what exists (and any merchant changes) alone. Each demo
product gets a photo drawn by shop/demo_pictures.py when it has none.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from extensions import db
from media import images
from models import Category, DeliveryZone, PickupPoint, Price, Product, ProductOption, Variant, VariantPrice
from shop import demo_pictures

CATEGORIES = [  # slug, French name, English name
    ("textiles", "Pagnes & textiles", "Wax prints & textiles"),
    ("maison", "Maison & cuisine", "Home & kitchen"),
    ("beaute", "Beauté & bien-être", "Beauty & wellbeing"),
    ("epicerie", "Épicerie fine", "Fine foods"),
]

# slug, name, category, stock, description, {currency: minor units}
PRODUCTS = [
    ("pagne-wax-6-yards", "Pagne wax 6 yards", "textiles", 25,
     "Wax hollandais 100 % coton, motif « Fleurs de mariage », 6 yards.",
     {"XOF": 15000, "XAF": 15000, "RWF": 32000, "NGN": 3500000, "USD": 2500}),
    ("faso-dan-fani", "Faso Dan Fani tissé main", "textiles", 12,
     "Coton tissé à la main à Ouagadougou, 2 pagnes, teintures naturelles.",
     {"XOF": 25000, "XAF": 25000, "RWF": 55000, "NGN": 6000000, "USD": 4200}),
    ("bogolan-coussin", "Housse de coussin bogolan", "textiles", 30,
     "Toile de coton teinte à la boue, 45 × 45 cm.",
     {"XOF": 7500, "XAF": 7500, "RWF": 16000, "NGN": 1750000, "USD": 1250}),
    ("kitenge-chemise", "Chemise kitenge", "textiles", 18,
     "Coupe droite, manches courtes, tailles S à XXL.",
     {"XOF": 12000, "XAF": 12000, "RWF": 26000, "NGN": 2800000, "USD": 2000}),
    ("panier-agaseke", "Panier Agaseke", "maison", 20,
     "Panier tressé à couvercle conique, sisal et herbe sweetgrass, Rwanda.",
     {"XOF": 9000, "XAF": 9000, "RWF": 18000, "NGN": 2100000, "USD": 1500}),
    ("calebasse-decoree", "Calebasse décorée", "maison", 15,
     "Calebasse pyrogravée, Ø 30 cm, pièce unique.",
     {"XOF": 6000, "XAF": 6000, "RWF": 13000, "NGN": 1400000, "USD": 1000}),
    ("canari-terre-cuite", "Canari en terre cuite", "maison", 8,
     "Jarre à eau fraîche traditionnelle, 12 litres.",
     {"XOF": 8500, "XAF": 8500, "RWF": 18500, "NGN": 2000000, "USD": 1400}),
    ("theiere-touareg", "Théière touareg", "maison", 22,
     "Théière en métal argenté pour l'ataya, 0,5 litre.",
     {"XOF": 5000, "XAF": 5000, "RWF": 11000, "NGN": 1200000, "USD": 850}),
    ("beurre-de-karite", "Beurre de karité brut", "beaute", 60,
     "Karité non raffiné, pot de 250 g, coopérative de femmes de Léo.",
     {"XOF": 3500, "XAF": 3500, "RWF": 7500, "NGN": 800000, "USD": 600}),
    ("savon-noir", "Savon noir traditionnel", "beaute", 80,
     "Savon noir à la cendre de cacao et au karité, 200 g.",
     {"XOF": 1500, "XAF": 1500, "RWF": 3200, "NGN": 350000, "USD": 250}),
    ("huile-de-baobab", "Huile de baobab", "beaute", 35,
     "Huile vierge pressée à froid, flacon de 100 ml.",
     {"XOF": 6500, "XAF": 6500, "RWF": 14000, "NGN": 1500000, "USD": 1100}),
    ("bissap-seche", "Bissap séché", "epicerie", 50,
     "Fleurs d'hibiscus séchées pour jus et infusions, 500 g.",
     {"XOF": 2500, "XAF": 2500, "RWF": 5500, "NGN": 600000, "USD": 450}),
    ("cafe-rwanda", "Café du Rwanda", "epicerie", 40,
     "Arabica bourbon des collines de Huye, moulu, 250 g.",
     {"XOF": 4500, "XAF": 4500, "RWF": 9000, "NGN": 1100000, "USD": 900}),
    ("poivre-penja", "Poivre blanc de Penja", "epicerie", 0,
     "IGP du Cameroun, grains, 100 g. Victime de son succès.",
     {"XOF": 7000, "XAF": 7000, "RWF": 15000, "NGN": 1600000, "USD": 1200}),
]


# currency, zone name, fee (minor units), free from (minor units or None), delay days (min, max)
ZONES = [
    ("XOF", "Ouagadougou centre", 1000, 50000, 1, 1),
    ("XOF", "Ouagadougou périphérie", 1500, 50000, 1, 2),
    ("XOF", "Bobo-Dioulasso", 3000, None, 2, 4),
    ("XAF", "Douala", 1500, 50000, 1, 2),
    ("XAF", "Yaoundé", 2500, None, 2, 3),
    ("RWF", "Kigali", 2000, 100000, 1, 1),
    ("NGN", "Lagos Island", 200000, None, 1, 2),
    ("NGN", "Lagos Mainland", 250000, None, 1, 3),
    ("USD", "International", 2500, 15000, 7, 14),
]
# currency, name, address, opening hours
POINTS = [
    ("XOF", "Boutique Comptoir Ouaga 2000", "Avenue Kwame Nkrumah, en face de la BICIA-B, Ouagadougou",
     "Lun–sam 8 h–18 h"),
    ("XAF", "Point relais Akwa", "Boulevard de la Liberté, derrière la pharmacie du Centre, Douala",
     "Lun–sam 9 h–18 h"),
    ("RWF", "Comptoir Kigali Heights", "KG 7 Ave, Kigali Heights, 2nd floor, Kigali", "Mon–Sat 9:00–19:00"),
    ("NGN", "Comptoir Lekki pickup", "Admiralty Way, beside the filling station, Lekki Phase 1, Lagos",
     "Mon–Sat 9:00–18:00"),
    ("USD", "Comptoir Ouaga 2000 (collect in person)", "Avenue Kwame Nkrumah, Ouagadougou, Burkina Faso",
     "Mon–Sat 8:00–18:00"),
]


def seed_delivery() -> int:
    """Add the demo zones and pickup points of markets that have none; return how many."""
    markets = set(db.session.scalars(select(DeliveryZone.currency))) | set(
        db.session.scalars(select(PickupPoint.currency)))
    added = 0
    for position, (currency, name, fee, free_from, low, high) in enumerate(ZONES):
        if currency not in markets:
            db.session.add(DeliveryZone(currency=currency, name=name, fee=fee, free_from=free_from,
                                        delay_min_days=low, delay_max_days=high, position=position))
            added += 1
    for position, (currency, name, address, hours) in enumerate(POINTS):
        if currency not in markets:
            db.session.add(PickupPoint(currency=currency, name=name, address=address,
                                       opening_hours=hours, position=position))
            added += 1
    return added


# slug → English description. The names stay as the shop writes them in French (the
# English page falls back to them), which also keeps the product names the tests and the
# gateways see the same in both languages; a merchant adds English names in the dashboard.
ENGLISH_DESCRIPTIONS = {
    "pagne-wax-6-yards": "Dutch wax, 100% cotton, “Wedding flowers” pattern, 6 yards.",
    "faso-dan-fani": "Cotton hand-woven in Ouagadougou, 2 lengths, natural dyes.",
    "bogolan-coussin": "Mud-dyed cotton cloth, 45 × 45 cm.",
    "kitenge-chemise": "Straight cut, short sleeves, sizes S to XXL.",
    "panier-agaseke": "Woven basket with a conical lid, sisal and sweetgrass, Rwanda.",
    "calebasse-decoree": "Pyrographed calabash, Ø 30 cm, one of a kind.",
    "canari-terre-cuite": "Traditional jar that keeps water cool, 12 litres.",
    "theiere-touareg": "Silver-plated metal teapot for ataya, 0.5 litre.",
    "beurre-de-karite": "Unrefined shea, 250 g jar, women's cooperative of Léo.",
    "savon-noir": "Black soap made with cocoa pod ash and shea, 200 g.",
    "huile-de-baobab": "Virgin cold-pressed oil, 100 ml bottle.",
    "bissap-seche": "Dried hibiscus flowers for juice and infusions, 500 g.",
    "cafe-rwanda": "Bourbon arabica from the hills of Huye, ground, 250 g.",
    "poivre-penja": "PGI from Cameroon, whole, 100 g. A victim of its own success.",
}


@cache
def demo_picture(slug: str) -> images.Processed | None:
    """The demo photo of ``slug``, drawn and resized once per process."""
    data = demo_pictures.png(slug)
    return images.process(data) if data else None


def add_demo_pictures() -> int:
    """Give each demo product without a picture its drawn photo; return how many got one."""
    slugs = [row[0] for row in PRODUCTS]
    products = db.session.scalars(
        select(Product).where(Product.slug.in_(slugs)).options(selectinload(Product.images)))
    added = 0
    for product in products:
        if not product.images and (picture := demo_picture(product.slug)) is not None:
            images.attach(product, picture, main=True)
            added += 1
    db.session.commit()
    return added


#: The demo options' English names (a merchant types them on the variants page).
OPTION_NAMES_EN = {"Taille": "Size", "Couleur": "Colour"}

#: Demo products sold in several combinations: option names, then (values, SKU, stock, own prices).
VARIANTS = {
    "kitenge-chemise": (("Taille",), [
        (("S",), "KIT-S", 3, {}), (("M",), "KIT-M", 5, {}), (("L",), "KIT-L", 6, {}), (("XL",), "KIT-XL", 4, {}),
        (("XXL",), "KIT-XXL", 0, {"XOF": 13500, "XAF": 13500, "RWF": 29000, "NGN": 3100000, "USD": 2250}),
    ]),
}


def _demo_variants(slug: str, stock: int) -> dict:
    """The ``options`` and ``variants`` of a demo product (its default variant when it has none)."""
    if slug not in VARIANTS:
        return {}
    names, rows = VARIANTS[slug]
    variants = []
    for position, (values, sku, units, prices) in enumerate(rows):
        padded = (*values, "", "", "")[:3]
        variants.append(Variant(option1=padded[0], option2=padded[1], option3=padded[2], sku=sku, stock=units,
                                position=position,
                                prices=[VariantPrice(currency=c, amount=a) for c, a in prices.items()]))
    return {"options": [ProductOption(position=i, name=n, name_en=OPTION_NAMES_EN.get(n)) for i, n in enumerate(names)],
            "variants": variants,
            "stock": sum(v.stock for v in variants)}


def seed_demo() -> int:
    """Add the demo catalogue where missing; return how many products were added."""
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    for position, (slug, name, name_en) in enumerate(CATEGORIES):
        if slug not in categories:
            categories[slug] = Category(slug=slug, name=name, name_en=name_en, position=position)
            db.session.add(categories[slug])
        elif not categories[slug].name_en:  # a shop seeded before categories had English names
            categories[slug].name_en = name_en
    existing = set(db.session.scalars(select(Product.slug)))
    added = 0
    for slug, name, category, stock, description, prices in PRODUCTS:
        if slug in existing:
            continue
        db.session.add(Product(**{
            "slug": slug, "name": name, "description": description,
            "description_en": ENGLISH_DESCRIPTIONS.get(slug, ""), "stock": stock, "active": True,
            "category": categories[category], "prices": [Price(currency=c, amount=a) for c, a in prices.items()],
            **_demo_variants(slug, stock)}))
        added += 1
    seed_delivery()
    db.session.commit()
    add_demo_pictures()
    return added


def catalogue_is_empty() -> bool:
    """True when there is no product at all."""
    return db.session.scalar(select(Product.id).limit(1)) is None
