"""Payment links: the customer's page (``/p/<code>``) and the merchant's (``/admin/links``)."""
from flask import Blueprint

bp = Blueprint("links", __name__)
admin_bp = Blueprint("admin_links", __name__, url_prefix="/admin/links")

from . import routes  # noqa: E402,F401
