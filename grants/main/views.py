"""Home page of each role, and the health check."""

from __future__ import annotations

from itertools import chain

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, text
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import Call, CommitteeSession, Dossier, QpvList, Role, User, utcnow
from ..operations import messages
from ..security import login_required_any, public
from . import bp
from .worklist import my_queue_counts, officer_work


@bp.before_app_request
def refuse_nul_characters() -> None:
    """A NUL character in a query, a form value or a file name is refused (400): PostgreSQL
    stores none in text and would fail the request with a 500; no browser form sends one."""
    values = chain(*request.args.listvalues(), *request.form.listvalues(),
                   (upload.filename or "" for upload in request.files.values()))
    if any("\x00" in value for value in values):
        abort(400)


@bp.route("/")
@public
def index() -> str | Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return home()


@login_required_any
def home() -> str:
    now = utcnow()
    calls = db.session.scalars(select(Call).order_by(Call.closes_at.desc())).all()
    user = current_user
    if user.role is Role.applicant:
        open_calls = [c for c in calls if c.is_open(now)]
        dossiers = db.session.scalars(
            select(Dossier)
            .where(Dossier.structure_id == user.structure_id)
            .options(joinedload(Dossier.call))
            .order_by(Dossier.updated_at.desc())
        ).all()
        return render_template(
            "main/home_applicant.html", structure=user.structure, open_calls=open_calls, now=now,
            dossiers=dossiers, unread=messages.unread_counts_for_member(list(dossiers), user),
        )
    if user.role is Role.committee:
        sessions = db.session.scalars(
            select(CommitteeSession)
            .where(CommitteeSession.members.any(User.id == user.id))
            .options(selectinload(CommitteeSession.items), joinedload(CommitteeSession.call))
            .order_by(CommitteeSession.meets_at.desc())
        ).all()
        return render_template("main/home_committee.html", sessions=sessions)
    # DREETS staff (an admin does everything an officer does): what there is to do.
    everyone = request.args.get("perimetre") == "tous"
    context = {
        "calls": calls, "now": now, "everyone": everyone, "my_queues": my_queue_counts(user),
        "work": officer_work(user, everyone=everyone, wait_days=current_app.config["ADMISSIBILITY_ALERT_DAYS"]),
    }
    if user.role is Role.admin:
        context["user_count"] = db.session.scalar(select(func.count(User.id)))
        context["qpv_lists"] = db.session.scalars(select(QpvList).order_by(QpvList.id)).all()
    return render_template(f"main/home_{user.role.value}.html", **context)


@bp.route("/sante")
@public
def health() -> tuple[dict[str, str], int]:
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}, 200


@bp.route("/accessibilite")
@public
def accessibility() -> str:
    return render_template("main/accessibility.html")


@bp.route("/mentions-legales")
@public
def legal() -> str:
    return render_template("main/legal.html")
