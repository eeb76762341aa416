"""Tests of the mail room (the e-mail outbox)."""
