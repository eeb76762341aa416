"""The HTTP layer, one blueprint per audience: ``shop`` (catalogue, cart), ``checkout`` (checkout,
order page, landings), ``payments`` (gateway callbacks only), ``admin`` (the merchant's dashboard),
``links`` (payment links, both sides) and ``media`` (product photos). A view validates its input,
calls one domain function and renders or redirects; blueprints may import every room, and no room
imports them (import-linter, pyproject.toml)."""
