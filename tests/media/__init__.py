"""Tests of the media room (product photos)."""
