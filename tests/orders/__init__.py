"""Tests of the orders room (the state owner, placing orders under concurrency)."""
