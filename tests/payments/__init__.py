"""Tests of the payments room (payment attempts, callbacks, reconciliation, and each gateway end to end)."""
