from flask import Blueprint

bp = Blueprint("officer", __name__, url_prefix="/instruction")

from . import queue, review, structures  # noqa: E402,F401
