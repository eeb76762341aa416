"""The merchant in the browser journeys: one account, one way to sign in."""
from __future__ import annotations

from merchant.accounts import save_admin

MERCHANT = ("merchant@example.bf", "correct horse battery staple")


def sign_in(page, app=None, path: str | None = "/admin/") -> None:
    """Sign the merchant in from the dashboard's login form (creating the account when ``app``
    is given; ``path=None`` when the page is already on the form)."""
    if app is not None:
        with app.app_context():
            save_admin(*MERCHANT)
    if path is not None:
        page.goto(path)
    page.get_by_label("E-mail").fill(MERCHANT[0])
    page.get_by_label("Password").fill(MERCHANT[1])
    page.get_by_role("button", name="Sign in").click()
