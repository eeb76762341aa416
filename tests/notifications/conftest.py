"""The dashboard's fixtures (a signed-in merchant) for the tests that move orders along."""
from tests.admin.conftest import admin, browser, merchant  # noqa: F401
