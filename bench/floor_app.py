"""The floor: the least a Flask app can do to serve a 24-item catalogue page.

Its own small template (a layout with a header and a footer, and a list of 24
products: link, name, price) rendered from constant data: no database, no session,
no extensions, none of the shop's templates. ``bench/profile_pages.py`` reports each
shop page's CPU per request as a multiple of this app's (target: at most 3x).
"""
from __future__ import annotations

from flask import Flask, render_template
from jinja2 import DictLoader

app = Flask(__name__)

ITEMS = [{"slug": f"product-{i}", "name": f"Product number {i}", "price": f"{1000 + 250 * i:,} F CFA".replace(",", "\u202f")}
         for i in range(24)]

TEMPLATE = """<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>{{ title }} · Floor</title>
<link rel="stylesheet" href="/static/shop.css"></head>
<body>
<header><a href="/">Floor</a><form action="/" method="get"><input name="q" type="search"></form></header>
<main>
<h1>{{ title }}</h1>
<ul class="products">
{% for item in items %}
  <li class="product-card">
    <a href="/products/{{ item.slug }}"><img src="/static/img/{{ item.slug }}.svg" alt="{{ item.name }}"><h2>{{ item.name }}</h2></a>
    <p class="price">{{ item.price }}</p>
    <form action="/cart/add" method="post"><input type="hidden" name="product_id" value="{{ loop.index }}"><button type="submit">Add to cart</button></form>
  </li>
{% endfor %}
</ul>
</main>
<footer><p>Floor · Prices in XOF</p></footer>
</body>
</html>
"""


app.jinja_loader = DictLoader({"floor.html": TEMPLATE})  # compiled once and cached, like a file template


@app.get("/")
def index():
    return render_template("floor.html", title="Catalogue", items=ITEMS)
