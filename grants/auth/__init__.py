from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/compte")

from . import navigation, views  # noqa: E402,F401
