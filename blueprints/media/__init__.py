"""Product pictures served from storage, under content-hash URLs cached for a year."""
from flask import Blueprint

bp = Blueprint("media", __name__, url_prefix="/media")

from . import routes  # noqa: E402,F401
