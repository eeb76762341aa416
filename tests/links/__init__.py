"""Tests of the links room (payment links)."""
