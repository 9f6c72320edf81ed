from flask import Blueprint

bp = Blueprint("committee", __name__, url_prefix="/comite")

from . import views  # noqa: E402,F401
