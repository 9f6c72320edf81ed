"""The application as served during the benchmark, with one more page: the baseline.

``/bench/baseline`` goes through the same stack as every page (gunicorn, Flask, the
session cookie, Flask-Login's user loader, the role check, a database session, Jinja,
the security headers) but does the least work a page can do: one trivial SELECT and a
tiny template. Each scenario's throughput is reported as a ratio of this one, measured
in the same run on the same machine. It exists only here, never in the production app.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template
from sqlalchemy import text

from grants import create_app
from grants.extensions import db
from grants.security import STAFF, roles_required

bp = Blueprint("bench", __name__, url_prefix="/bench", template_folder="templates")


@bp.route("/baseline")
@roles_required(*STAFF)
def baseline() -> str:
    value = db.session.execute(text("SELECT 1")).scalar_one()
    return render_template("bench/baseline.html", value=value)


def create_bench_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_app(config)
    app.register_blueprint(bp)
    return app
