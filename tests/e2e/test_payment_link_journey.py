"""Payment links in real browsers (issue 19): the merchant makes a link on the dashboard, the
customer pays it on a phone in French with two gateways (IremboPay declines the number,
the customer pays another way, FCFPay takes it), and the merchant sees it paid."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import PaymentLink
from tests.e2e import merchant


def sign_in(page, app) -> None:
    merchant.sign_in(page, app, "/admin/links/")
    expect(page.get_by_role("heading", name="Payment links")).to_be_visible()


def test_merchant_makes_a_link_customer_pays_on_a_phone_merchant_sees_it_paid(page, phone_page, app, ctx, step):
    # the merchant
    sign_in(page, app)
    page.get_by_role("link", name="New payment link").click()
    page.get_by_label("Market").select_option("USD")
    page.locator("#product-1").select_option(label="Café du Rwanda")
    page.locator("#products-0-quantity").fill("2")
    page.locator("#free-0-text").fill("Retouche sur mesure")
    page.locator("#free-0-amount").fill("7.50")
    page.get_by_label("Customer's name (optional)").fill("Awa")
    page.get_by_label("Customer's phone (optional, for WhatsApp)").fill("+226 70 12 34 56")
    page.get_by_label("Customer's language").select_option("fr")
    page.get_by_label("Note shown to the customer (optional)").fill("Livraison jeudi à Ouaga 2000")
    page.get_by_role("button", name="Create the link").click()
    expect(page.get_by_role("heading", name=re.compile("Payment link"))).to_be_visible()
    expect(page.locator("#link-total")).to_have_text("$25.50")
    whatsapp = page.locator("#whatsapp")
    expect(whatsapp).to_have_attribute("href", re.compile(r"^https://wa\.me/22670123456\?text=Bonjour%20Awa"))
    expect(page.locator("#qr")).to_be_visible()
    assert page.locator("#qr").evaluate("img => img.naturalWidth") > 0  # the SVG loaded
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-link")).to_have_text("Copied")
    step(page, "link-made")
    url = page.locator("#link-url").input_value()
    code = url.rsplit("/p/", 1)[1]

    # the customer, on a phone: IremboPay declines, FCFPay takes it
    customer = phone_page
    customer.goto(url)
    expect(customer.get_by_role("heading", name="Paiement à Comptoir")).to_be_visible()
    expect(customer.locator("#link-total")).to_have_text(re.compile(r"25,50\s\$US"))
    expect(customer.locator("#link-note")).to_have_text("Livraison jeudi à Ouaga 2000")
    step(customer, "link-page")
    expect(customer.get_by_label("Nom et prénom")).to_have_value("Awa")
    customer.get_by_label("E-mail").fill("awa@example.bf")
    customer.get_by_label("IremboPay").check()
    customer.get_by_role("button", name=re.compile(r"^Payer 25,50")).click()
    expect(customer.get_by_role("heading", name="Payer sur IremboPay")).to_be_visible()
    with customer.expect_popup() as opened:  # IremboPay opens in a new tab; the order page waits
        customer.locator("#pay-at-gateway").click()
    gateway = opened.value
    expect(gateway).to_have_url(re.compile(r"/_sim/irembopay/"))
    gateway.get_by_label("Mobile money number (MTN 078/079, Airtel 072/073)").fill("0780123456")
    gateway.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(gateway.get_by_text("The payment was declined")).to_be_visible()
    step(gateway, "declined")
    gateway.close()  # IremboPay keeps the invoice open: the customer pays another way
    customer.get_by_role("button", name="Payer autrement").click()
    expect(customer.get_by_role("heading", name="Paiement annulé")).to_be_visible()
    customer.get_by_label("FCFPay").check()
    customer.get_by_role("button", name="Réessayer").click()
    customer.get_by_role("button", name=re.compile(r"^Pay the remaining")).click()
    expect(customer.locator("#order-status")).to_have_attribute("data-status", "paid")
    expect(customer.get_by_role("heading", name="Paiement reçu — merci !")).to_be_visible()
    step(customer, "paid")
    customer.goto(url)  # the link now shows the receipt (the order page)
    expect(customer.get_by_role("heading", name="Paiement reçu — merci !")).to_be_visible()

    # the merchant sees it paid
    page.goto("/admin/links/?status=paid")
    row = page.locator(f'tr[data-code="{code}"]')
    expect(row).to_contain_text("paid")
    row.get_by_role("link", name=f"/p/{code}").click()
    expect(page.get_by_role("heading", name=re.compile("Payment link"))).to_contain_text("paid")
    expect(page.locator("#paid-at")).to_be_visible()
    step(page, "merchant-sees-paid")
    db.session.expire_all()
    link = db.session.scalar(select(PaymentLink).where(PaymentLink.code == code))
    assert link.status == "paid"
    assert [(p.gateway, p.status) for p in link.order.payments] == [("irembopay", "cancelled"), ("fcfpay", "succeeded")]
