from flask import Blueprint

bp = Blueprint("officer", __name__, url_prefix="/instruction")

from . import queue, review  # noqa: E402,F401
