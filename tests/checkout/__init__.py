"""Tests of the checkout room (the checkout form)."""
