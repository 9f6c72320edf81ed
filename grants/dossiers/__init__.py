from flask import Blueprint

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")

from . import messages, views  # noqa: E402,F401
