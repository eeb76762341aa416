"""Tests of the delivery room (delivery options and fulfilment)."""
