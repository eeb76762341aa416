"""Blueprints, by audience: shop, checkout, payments (gateways only)."""
