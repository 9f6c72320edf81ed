from flask import Blueprint

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")

from . import views  # noqa: E402,F401
