"""Checkout form, order page, retry, and the gateways' return/cancel landings."""
from flask import Blueprint

bp = Blueprint("checkout", __name__)

from . import routes  # noqa: E402,F401
