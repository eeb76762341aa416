"""Tests of the shop room (the catalogue, the cart, prices at par, search)."""
