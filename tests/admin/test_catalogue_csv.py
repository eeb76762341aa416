"""The bulk catalogue (issue 26): export as CSV, import with a preview, then all or nothing.

Over real HTTP with the signed-in merchant; the sample files are in tests/data/ (README there)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from extensions import db
from models import CatalogueImport, Order, Product, Variant
from shop.catalog_csv import MAX_BYTES, MAX_ROWS, columns
from tests.admin.conftest import text_of

DATA = Path(__file__).parent.parent / "data"
CONFIRM = re.compile(r'action="(/admin/products/import/[^"]+)"')


def upload(admin, content: bytes, filename: str = "catalogue.csv"):
    return admin.post("/admin/products/import", csrf_from="/admin/products/import",
                      files={"file": (filename, content, "text/csv")})


def confirm(admin, preview):
    match = CONFIRM.search(preview.text)
    assert match, "no confirm button on the preview"
    return admin.post(match.group(1), csrf_from="/admin/products")


def product(slug: str) -> Product | None:
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.slug == slug))


def catalogue() -> list[tuple]:
    """Everything an import may change, to show that nothing did."""
    db.session.expire_all()
    rows = []
    for p in db.session.scalars(select(Product).order_by(Product.slug)):
        rows.append((p.slug, p.name, p.name_en, p.description, p.active, p.stock, p.category_id,
                     sorted((x.currency, x.amount) for x in p.prices), [o.name for o in p.options],
                     [(v.sku, v.values, v.stock, sorted((x.currency, x.amount) for x in v.prices))
                      for v in p.variants]))
    return rows


def exported(admin, excel: bool = False) -> bytes:
    response = admin.get("/admin/products/export.csv" + ("?format=excel-fr" if excel else ""))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    return response.content


def rows_of(content: bytes, delimiter: str = ",") -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def write(rows: list[dict], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


# export

def test_export_writes_one_row_per_variant_with_prices_in_major_units(admin, ctx):
    content = exported(admin)
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads the accents right
    rows = rows_of(content)
    assert list(rows[0]) == columns()
    kitenge = [r for r in rows if r["handle"] == "kitenge-chemise"]
    assert [r["sku"] for r in kitenge] == ["KIT-S", "KIT-M", "KIT-L", "KIT-XL", "KIT-XXL"]
    assert kitenge[0]["option1_name"] == "Taille" and kitenge[1]["option1_name"] == ""  # the first row only
    assert kitenge[0]["price_XOF"] == "12000" and kitenge[0]["price_USD"] == "20.00"
    assert kitenge[4]["variant_price_XOF"] == "13500" and kitenge[4]["variant_price_NGN"] == "31000.00"
    (savon,) = [r for r in rows if r["handle"] == "savon-noir"]
    assert savon["name_fr"] == "Savon noir traditionnel" and savon["stock"] == "80" and savon["active"] == "yes"
    assert savon["category"] == "beaute" and savon["option1_value"] == ""
    assert len({r["handle"] for r in rows}) == db.session.scalar(select(func.count(Product.id)))


def test_excel_french_export_uses_semicolons_and_decimal_commas(admin):
    rows = rows_of(exported(admin, excel=True), delimiter=";")
    (pagne,) = [r for r in rows if r["handle"] == "pagne-wax-6-yards"]
    assert pagne["price_USD"] == "25,00" and pagne["price_NGN"] == "35000,00" and pagne["price_XOF"] == "15000"


@pytest.mark.parametrize("excel", [False, True], ids=["utf8-comma", "excel-fr"])
def test_round_trip_export_then_import_changes_nothing(admin, ctx, excel):
    before = catalogue()
    preview = upload(admin, exported(admin, excel))
    assert preview.status_code == 200, text_of(preview)[:2000]
    page = text_of(preview)
    assert "0 to create, 0 to update, 14 unchanged." in page
    assert "Nothing to change" in page and not CONFIRM.search(preview.text)
    assert catalogue() == before


def test_formula_cells_are_neutralised_in_the_export_and_read_back_as_typed(admin, ctx):
    savon = product("savon-noir")
    savon.name_en, savon.description = "=HYPERLINK(\"http://evil.example\")", "+33 boîtes"
    db.session.commit()
    content = exported(admin)
    (row,) = [r for r in rows_of(content) if r["handle"] == "savon-noir"]
    assert row["name_en"] == "'=HYPERLINK(\"http://evil.example\")" and row["description_fr"] == "'+33 boîtes"
    preview = upload(admin, content)
    assert "14 unchanged" in text_of(preview)  # the apostrophe is not read as part of the name


# import: preview, then confirm

def test_utf8_file_previews_and_writes_nothing_until_confirmed(admin, ctx):
    before = catalogue()
    preview = upload(admin, (DATA / "catalogue_utf8.csv").read_bytes(), "catalogue_utf8.csv")
    assert preview.status_code == 200
    page = text_of(preview)
    assert "2 to create, 1 to update, 0 unchanged." in page
    assert "3 variants (Taille), stock 12" in page
    assert "price XOF: 1500 → 1750" in page and "stock default variant: 80 → 100" in page
    assert catalogue() == before  # a preview writes nothing

    done = confirm(admin, preview)
    assert done.status_code == 303 and done.headers["Location"] == "/admin/products"
    assert "2 product(s) created, 1 updated" in text_of(admin.get("/admin/products"))
    boubou = product("boubou-brode")
    assert boubou.name == "Boubou brodé" and boubou.name_en == "Embroidered boubou"
    assert boubou.description == "Bazin riche, broderie main à Bamako.\nLivré plié, avec son pantalon."
    assert boubou.category.slug == "textiles" and boubou.active and boubou.stock == 12
    assert [o.name for o in boubou.options] == ["Taille"]
    assert [(v.sku, v.values, v.stock) for v in boubou.variants] == [
        ("BOU-S", ("S",), 4), ("BOU-M", ("M",), 6), ("BOU-L", ("L",), 2)]
    assert {p.currency: p.amount for p in boubou.prices} == {"XOF": 30000, "XAF": 30000, "USD": 5000}
    assert {p.currency: p.amount for p in boubou.variants[2].prices} == {"XOF": 32000}
    tea = product("the-kinkeliba")
    assert tea.stock == 40 and tea.low_stock_threshold == 5 and tea.default_variant.stock == 40
    assert {p.currency: p.amount for p in tea.prices} == {"XOF": 2000, "USD": 350}
    savon = product("savon-noir")
    assert savon.stock == 100 and savon.price_in("XOF").amount == 1750 and savon.price_in("NGN").amount == 350000
    assert db.session.scalar(select(func.count(CatalogueImport.id))) == 0  # the preview is used up
    assert "Embroidered boubou" in admin.get("/products/boubou-brode").text  # on sale in the shop (in English)


def test_excel_french_file_cp1252_semicolons_and_decimal_commas(admin, ctx):
    content = (DATA / "catalogue_excel_fr.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really Windows-1252
    preview = upload(admin, content)
    assert preview.status_code == 200, text_of(preview)[:2000]
    assert "1 to create" in text_of(preview)
    assert confirm(admin, preview).status_code == 303
    bag = product("sac-touareg")
    assert bag.name == "Sac « cœur » en cuir touareg" and bag.description == "Cuir de chèvre tanné à Agadez, 30 × 25 cm."
    assert {p.currency: p.amount for p in bag.prices} == {"XOF": 18000, "NGN": 4500000, "USD": 2990}
    assert [(v.sku, v.values, v.stock) for v in bag.variants] == [("TOU-FAU", ("Fauve",), 3), ("TOU-NOI", ("Noir",), 5)]
    assert {p.currency: p.amount for p in bag.variants[1].prices} == {"USD": 3150}
    assert bag.active and bag.category.slug == "maison"


def test_errors_are_listed_by_row_and_column_and_nothing_is_written(admin, ctx):
    before = catalogue()
    preview = upload(admin, (DATA / "catalogue_errors.csv").read_bytes())
    assert preview.status_code == 400
    found = re.findall(r"<tr><td data-label=\"Row\">(\d+)</td><td data-label=\"Column\"><code>([^<]+)</code>",
                       preview.text)
    assert found == [("2", "handle"), ("3", "price_XOF"), ("4", "category"), ("4", "stock"), ("5", "active"),
                     ("5", "variant_price_USD"), ("6", "sku"), ("7", "name_fr")]
    page = text_of(preview)
    for reason in ("A handle is made of lower-case letters", "XOF: at most 0 decimal place(s).",
                   "No category has the slug jouets", "A whole number from 0 to 1,000,000.", "Write yes or no",
                   "USD: write a number", "The SKU KIT-M is already another variant's.",
                   "Give the product a name, in French or in English."):
        assert reason in page
    assert "8 problem(s) to fix in the file" in page and not CONFIRM.search(preview.text)
    assert catalogue() == before and product("plateau-vannerie") is None  # not even the good row
    assert db.session.scalar(select(func.count(CatalogueImport.id))) == 0


def test_update_by_handle_and_sku_renames_restocks_reprices_and_removes_variants(admin, ctx):
    rows = [r for r in rows_of(exported(admin)) if r["handle"] == "kitenge-chemise"]
    rows[1].update(option1_value="M (slim)", stock="9")  # KIT-M matched by its SKU, renamed
    rows[2].update(variant_price_USD="21.50")
    rows[0].update(name_en="Kitenge shirt", price_XOF="12 500")  # a French spreadsheet's thousands
    rows = rows[:4]  # KIT-XXL removed (in no order)
    preview = upload(admin, write(rows))
    page = text_of(preview)
    assert preview.status_code == 200, page[:2000]
    assert "0 to create, 1 to update" in page
    for change in ("English name: (empty) → Kitenge shirt", "price XOF: 12000 → 12500", "variant M → M (slim)",
                   "stock M (slim): 5 → 9", "own price L USD: none → 21.50", "removes variant XXL"):
        assert change in page
    kitenge = product("kitenge-chemise")
    ids = {v.sku: v.id for v in kitenge.variants}
    assert confirm(admin, preview).status_code == 303
    kitenge = product("kitenge-chemise")
    assert [(v.sku, v.values, v.stock) for v in kitenge.variants] == [
        ("KIT-S", ("S",), 3), ("KIT-M", ("M (slim)",), 9), ("KIT-L", ("L",), 6), ("KIT-XL", ("XL",), 4)]
    assert kitenge.variants[1].id == ids["KIT-M"]  # the same variant (carts and orders keep pointing at it)
    assert kitenge.stock == 22 and kitenge.name_en == "Kitenge shirt" and kitenge.price_in("XOF").amount == 12500
    assert {p.currency: p.amount for p in kitenge.variants[2].prices} == {"USD": 2150}
    assert db.session.get(Variant, ids["KIT-XXL"]) is None


def test_stock_reserved_between_preview_and_confirm_stays_reserved(admin, shopper, ctx):
    rows = rows_of(exported(admin))
    (savon,) = [r for r in rows if r["handle"] == "savon-noir"]
    savon["stock"] = "100"  # the merchant counted 100 on sale
    preview = upload(admin, write([savon]))
    assert "stock default variant: 80 → 100" in text_of(preview)
    assert shopper.buy("savon-noir", quantity=3).status_code == 303  # a customer reserves 3 meanwhile
    assert product("savon-noir").stock == 77
    assert confirm(admin, preview).status_code == 303
    assert product("savon-noir").stock == 97  # +20 from what the preview showed: the 3 stay reserved


def test_stock_that_lost_a_race_means_nothing_is_written(admin, shopper, ctx):
    rows = rows_of(exported(admin))
    (huile,) = [r for r in rows if r["handle"] == "huile-de-baobab"]
    huile["stock"] = "0"  # 35 → 0: the merchant takes all of it off sale
    new = dict.fromkeys(columns(), "") | {"handle": "panier-neuf", "name_fr": "Panier neuf", "active": "yes",
                                         "price_XOF": "4000", "stock": "5"}
    preview = upload(admin, write([huile, new]))
    assert "1 to create, 1 to update" in text_of(preview)
    assert shopper.buy("huile-de-baobab", quantity=2).status_code == 303  # 33 left: 33 - 35 < 0
    before = catalogue()
    failed = confirm(admin, preview)
    assert failed.status_code == 409
    page = text_of(failed)
    assert "Nothing was imported: huile-de-baobab: Customers reserved some of this stock meanwhile" in page
    assert catalogue() == before and product("panier-neuf") is None
    # the preview again, with today's stock: confirming it now works
    assert "stock default variant: 33 → 0" in page
    assert confirm(admin, failed).status_code == 303
    assert product("huile-de-baobab").stock == 0 and product("panier-neuf").stock == 5


def test_a_row_that_fails_at_confirm_means_nothing_is_written(admin, ctx):
    content = (DATA / "catalogue_utf8.csv").read_bytes()
    preview = upload(admin, content)
    assert preview.status_code == 200
    # meanwhile another product takes one of the file's SKUs
    db.session.scalar(select(Variant).where(Variant.sku == "KIT-L")).sku = "BOU-L"
    db.session.commit()
    before = catalogue()
    failed = confirm(admin, preview)
    assert failed.status_code == 409
    page = text_of(failed)
    assert "Nothing was imported: the catalogue changed since the preview" in page
    assert "The SKU BOU-L is already another variant's." in page and not CONFIRM.search(failed.text)
    assert catalogue() == before and product("boubou-brode") is None and product("savon-noir").stock == 80


def test_a_preview_is_confirmed_once(admin, ctx):
    preview = upload(admin, (DATA / "catalogue_utf8.csv").read_bytes())
    assert confirm(admin, preview).status_code == 303
    again = confirm(admin, preview)
    assert again.status_code == 303 and again.headers["Location"] == "/admin/products/import"
    assert "already imported" in text_of(admin.get("/admin/products/import"))
    assert product("savon-noir").stock == 100 and product("boubou-brode").stock == 12


def test_a_preview_belongs_to_its_merchant(admin, ctx, base_url):
    from merchant.accounts import save_admin
    from tests.admin.conftest import AdminActions

    preview = upload(admin, (DATA / "catalogue_utf8.csv").read_bytes())
    save_admin("other@example.com", "another long password")
    other = AdminActions(base_url)
    assert other.login("other@example.com", "another long password").status_code == 303
    assert confirm(other, preview).headers["Location"] == "/admin/products/import"
    assert product("boubou-brode") is None
    other.http.close()


# hostile files: a clear answer on the page, never a 500, nothing written

@pytest.mark.parametrize(("content", "reason"), [
    (b"", "The file is empty."),
    (b"   \r\n\r\n", "The file is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "This is not a CSV file (it holds binary data)"),
    ("handle;name_fr\r\nsavon;Savon".encode("utf-16"), "This is not a CSV file"),
    (b"\x81\x8d\x8f\x90\x9d" * 10, "neither UTF-8 nor Windows (Excel) text"),
    (b"name,price\nSavon,1500\n", "The first row must name the catalogue's columns (start from an export): missing handle"),
    (",".join(columns()).encode() + b"\n", "has no product row"),
    (",".join([*columns(), "notes"]).encode() + b"\nx\n", "unknown notes"),
    (",".join([*columns(), "sku"]).encode() + b"\nx\n", "twice sku"),
    (b"x" * (MAX_BYTES + 1), "The file is larger than 2048 KB"),
    (",".join(columns()).encode() + b"\n" + b"savon-noir\n" * (MAX_ROWS + 1), "more than 5,000 rows"),
    (",".join(columns()).encode() + b'\n"savon-noir' + b"x" * 140_000 + b'"\n', "cannot be read as CSV"),
], ids=["empty", "blank", "png", "utf16", "undecodable", "other-columns", "header-only", "unknown-column",
        "twice", "too-large", "too-many-rows", "huge-cell"])
def test_hostile_files_get_a_clear_reason(admin, ctx, content, reason):
    before = catalogue()
    response = upload(admin, content)
    assert response.status_code == 400
    assert reason in text_of(response)
    assert catalogue() == before


def test_a_file_past_the_request_limit_is_a_413_naming_the_catalogue_limit(admin, app):
    response = upload(admin, b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert response.status_code == 413
    assert "a catalogue file may be at most 2048 KB" in text_of(response)


def test_no_file_is_a_form_error(admin):
    response = admin.post("/admin/products/import", csrf_from="/admin/products/import")
    assert response.status_code == 400 and "Choose a CSV file first." in text_of(response)


def test_garbage_rows_are_row_errors_not_a_crash(admin, ctx):
    rows = [dict.fromkeys(columns(), "") | {"handle": "x" * 300, "name_fr": "n" * 300, "stock": "-4",
                                           "active": "yes", "option2_name": "Couleur"},
            dict.fromkeys(columns(), "") | {"handle": "bidon", "name_fr": "\u202e\u0000?", "stock": "1e3",
                                           "active": "yes", "price_USD": "NaN", "option1_name": "A",
                                           "option2_name": "a"}]
    response = upload(admin, write(rows).replace(b"\x00", b""))
    assert response.status_code == 400
    page = text_of(response)
    assert "A handle is made of" in page and "At most 200 characters." in page
    assert "Name the options from option1_name on" in page and "USD: the price must be above zero." in page
    assert "A whole number from 0 to 1,000,000." in page


def test_the_products_page_links_export_and_import(admin):
    page = admin.get("/admin/products").text
    assert 'href="/admin/products/import"' in page and 'href="/admin/products/export.csv"' in page
    assert 'href="/admin/products/export.csv?format=excel-fr"' in page


def test_import_and_export_need_a_signed_in_merchant(browser):
    assert browser.get("/admin/products/export.csv").status_code in (302, 303)
    response = browser.http.post(browser.base_url + "/admin/products/import",
                                 files={"file": ("c.csv", b"handle\n", "text/csv")}, allow_redirects=False)
    assert response.status_code in (302, 303, 400)


# concurrency (PostgreSQL: SQLite serialises every writer)

@pytest.fixture
def postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("parallel confirms need PostgreSQL's row locks (set TEST_DATABASE_URL)")


def test_parallel_confirms_of_one_preview_import_it_once(postgres_only, admin, ctx):
    from concurrent.futures import ThreadPoolExecutor

    preview = upload(admin, (DATA / "catalogue_utf8.csv").read_bytes())
    path = CONFIRM.search(preview.text).group(1)
    token = admin.csrf("/admin/products")
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: admin.http.post(admin.base_url + path, data={"csrf_token": token},
                                                          allow_redirects=False, timeout=60), range(6)))
    places = sorted(a.headers.get("Location", str(a.status_code)) for a in answers)
    assert places == ["/admin/products"] + ["/admin/products/import"] * 5, places
    assert product("savon-noir").stock == 100 and product("boubou-brode").stock == 12  # not 120, not 24
    assert db.session.scalar(select(func.count(Product.id)).where(Product.slug == "boubou-brode")) == 1


def test_an_import_racing_checkouts_never_oversells(postgres_only, admin, app, base_url, ctx):
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers import Shopper

    rows = rows_of(exported(admin))
    (huile,) = [r for r in rows if r["handle"] == "huile-de-baobab"]
    huile["stock"] = "5"  # 35 → 5, while ten customers try to buy 1 each
    preview = upload(admin, write([huile]))
    path = CONFIRM.search(preview.text).group(1)
    token = admin.csrf("/admin/products")

    def buy(_):
        with app.app_context(), Shopper(base_url) as shopper:
            try:
                return shopper.buy("huile-de-baobab").status_code
            except AssertionError:  # sold out before this customer's checkout form
                return 0

    with ThreadPoolExecutor(11) as pool:
        confirmed = pool.submit(lambda: admin.http.post(admin.base_url + path, data={"csrf_token": token},
                                                        allow_redirects=False, timeout=60))
        bought = list(pool.map(buy, range(10)))
    answer = confirmed.result()
    sold = db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "pending"))
    stock = product("huile-de-baobab").stock
    assert stock >= 0 and sold > 0 and 303 in bought  # (a sold-out checkout is sent back with a 303 too)
    if answer.status_code == 303:  # the import moved stock by -30 from what the preview showed
        assert stock == 5 - sold
    else:  # it lost the race (would have gone below zero): nothing written
        assert answer.status_code == 409 and stock == 35 - sold


# the merchant's language: the import's pages and every message follow core.i18n.select_locale

ROW_AND_COLUMN = re.compile(r'<tr><td data-label="(?:Row|Ligne)">(\d+)</td>'
                            r'<td data-label="(?:Column|Colonne)"><code>([^<]+)</code>')


def in_french(number: int) -> str:
    """A number as the French pages write it: a narrow no-break space between thousands (a plain
    space once text_of has collapsed the page's white space)."""
    from babel.numbers import format_decimal

    written = format_decimal(number, locale="fr")
    assert written == f"{number:,}".replace(",", "\u202f")
    return re.sub(r"\s", " ", written)


def test_a_french_browser_reads_the_preview_and_every_row_error_in_french(admin, ctx):
    admin.http.headers["Accept-Language"] = "fr-BF,fr;q=0.9,en;q=0.5"
    before = catalogue()
    preview = upload(admin, (DATA / "catalogue_errors.csv").read_bytes())
    assert preview.status_code == 400
    assert '<html lang="fr">' in preview.text
    # the same rows and columns (the file's own column names), the reasons in French
    assert ROW_AND_COLUMN.findall(preview.text) == [
        ("2", "handle"), ("3", "price_XOF"), ("4", "category"), ("4", "stock"), ("5", "active"),
        ("5", "variant_price_USD"), ("6", "sku"), ("7", "name_fr")]
    page = text_of(preview)
    for reason in ("Un handle est fait de lettres minuscules, de chiffres et de tirets (par ex. savon-noir), 120 au plus.",
                   "XOF : au plus 0 décimale(s).",
                   "Aucune catégorie n’a le slug jouets : créez-la d’abord sur la page Categories",
                   f"Un nombre entier de 0 à {in_french(1_000_000)}.", "Écrivez oui ou non (en vente ou pas).",
                   "USD : écrivez un nombre comme 1500 ou 12,50.",
                   "La référence KIT-M est déjà celle d’une autre variante.",
                   "Donnez un nom au produit, en français ou en anglais."):
        assert reason in page
    for words in ("Aperçu de l’import", "catalogue.csv : 7 produit(s) sur 7 ligne(s).",
                  "8 problème(s) à corriger dans le fichier : rien n’est importé", "Problèmes",
                  "Ligne Colonne Problème", "Ce qui se passe", "serait créé", "Envoyer un autre fichier"):
        assert words in page
    for english in ("A handle is made of", "Write yes or no", "problem(s) to fix", "Import preview", "would be created"):
        assert english not in page
    assert catalogue() == before and not CONFIRM.search(preview.text)


def test_an_english_browser_and_no_language_at_all_read_english(admin, ctx):
    for header in ("en-US,en;q=0.9", None):  # the test shop's DEFAULT_LOCALE is en
        if header:
            admin.http.headers["Accept-Language"] = header
        else:
            admin.http.headers.pop("Accept-Language", None)
        preview = upload(admin, (DATA / "catalogue_errors.csv").read_bytes())
        page = text_of(preview)
        assert '<html lang="en">' in preview.text
        assert "8 problem(s) to fix in the file" in page and "Write yes or no (on sale or not)." in page
        assert "A whole number from 0 to 1,000,000." in page and "Écrivez" not in page


def test_the_language_switchers_choice_wins_over_the_browser(admin, ctx):
    admin.http.headers["Accept-Language"] = "en"
    assert admin.post("/language", {"language": "fr", "next": "/admin/products/import"}).status_code == 303
    form = admin.get("/admin/products/import")
    page = text_of(form)
    for words in ("Importer des produits", "Un seul fichier CSV pour tout le catalogue", "Exporter en CSV",
                  "Exporter pour Excel (français)", "2048 Ko au plus", "Fichier du catalogue (CSV)",
                  "Rien ne change tant que vous n’avez pas vu l’aperçu"):
        assert words in page
    assert '<html lang="fr">' in form.text and 'value="Voir l’aperçu de l’import"' in form.text
    assert 'id="export-link"' in form.text and 'id="export-excel-link"' in form.text
    assert "Import products" not in page
    missing = admin.post("/admin/products/import", csrf_from="/admin/products/import")
    assert missing.status_code == 400 and "Choisissez d’abord un fichier CSV." in text_of(missing)
    # what the preview would change, in French too
    rows = rows_of(exported(admin))
    (savon,) = [r for r in rows if r["handle"] == "savon-noir"]
    savon.update(stock="100", active="no")
    preview = upload(admin, write([savon]))
    page = text_of(preview)
    assert preview.status_code == 200, page[:2000]
    assert "0 à créer, 1 à mettre à jour, 0 inchangé(s)." in page
    assert "stock variante par défaut : 80 → 100" in page and "en vente : oui → non" in page
    assert "Confirmer l’import" in page
    assert confirm(admin, preview).status_code == 303
    assert "importé : 0 produit(s) créé(s), 1 mis à jour, 0 inchangé(s)." in text_of(admin.get("/admin/products"))
    assert product("savon-noir").stock == 100 and not product("savon-noir").active
    assert rows_of(exported(admin))[0]["active"] in ("yes", "no")  # the file's format stays as it is


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "Le fichier est vide."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Ce n’est pas un fichier CSV (il contient des données binaires)"),
    (b"\x81\x8d\x8f\x90\x9d" * 10, "Le fichier n’est ni du texte UTF-8 ni du texte Windows (Excel)"),
    (b"name,price\nSavon,1500\n",
     "La première ligne doit nommer les colonnes du catalogue (partez d’un export) : manquantes : handle"),
    (",".join([*columns(), "notes", "sku"]).encode() + b"\nx\n", "inconnues : notes; en double : sku."),
    (",".join(columns()).encode() + b"\n", "Le fichier nomme ses colonnes mais n’a aucune ligne de produit."),
    (b"x" * (MAX_BYTES + 1), "Le fichier dépasse 2048 Ko : découpez-le en plusieurs fichiers."),
    (",".join(columns()).encode() + b"\n" + b"savon-noir\n" * (MAX_ROWS + 1),
     f"Le fichier a plus de {in_french(MAX_ROWS)} lignes"),
    (",".join(columns()).encode() + b'\n"savon-noir' + b"x" * 140_000 + b'"\n',
     "ne peut pas être lue comme du CSV"),
], ids=["empty", "binary", "undecodable", "other-columns", "unknown-and-twice", "header-only", "too-large",
        "too-many-rows", "huge-cell"])
def test_file_errors_are_in_french_for_a_french_merchant(admin, ctx, content, reason):
    admin.http.headers["Accept-Language"] = "fr"
    response = upload(admin, content)
    assert response.status_code == 400
    assert reason in text_of(response)


def test_a_file_past_the_request_limit_says_so_in_french(admin, app):
    admin.http.headers["Accept-Language"] = "fr"
    response = upload(admin, b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert response.status_code == 413
    assert "un fichier de catalogue fait au plus 2048 Ko" in text_of(response)


def test_confirm_time_errors_are_in_french(admin, ctx):
    admin.http.headers["Accept-Language"] = "fr"
    content = (DATA / "catalogue_utf8.csv").read_bytes()
    preview = upload(admin, content)
    assert preview.status_code == 200
    db.session.scalar(select(Variant).where(Variant.sku == "KIT-L")).sku = "BOU-L"  # checked again at confirm
    db.session.commit()
    failed = confirm(admin, preview)
    assert failed.status_code == 409
    page = text_of(failed)
    assert "Rien n’a été importé : le catalogue a changé depuis l’aperçu" in page
    assert "La référence BOU-L est déjà celle d’une autre variante." in page
    assert "Nothing was imported" not in page
    # a used (or expired, or replaced) preview
    again = confirm(admin, preview)
    assert again.status_code == 303 and again.headers["Location"] == "/admin/products/import"
    assert "Cet aperçu a déjà été importé, a été remplacé par un plus récent ou a expiré" in text_of(
        admin.get("/admin/products/import"))
