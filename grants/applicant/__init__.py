from flask import Blueprint

bp = Blueprint("applicant", __name__, url_prefix="/porteur")

from . import views  # noqa: E402,F401
