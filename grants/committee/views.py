"""Committee sessions: staff build the agenda and record decisions; members consult."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from ..dossiers.views import audited, send_bytes, send_stored
from ..extensions import db
from ..forms.committee import AddItemForm, AttendanceForm, DecisionForm, SessionForm
from ..forms.dossier import ConfirmForm
from ..models import (
    AgendaItem,
    Call,
    CommitteeSession,
    Decision,
    Dossier,
    DossierState,
    Instruction,
    Role,
    SessionStatus,
    User,
)
from ..notifications import notify_decision
from ..operations import committee as ops
from ..operations import documents
from ..storage import current_store, sha256_hex
from ..operations.dossiers import DossierError
from ..security import STAFF, get_or_404, roles_required
from . import bp

staff_required = roles_required(*STAFF)

CONFLICT = ("La séance a été modifiée entre-temps par une autre personne : rien n'a été enregistré. "
            "Vérifiez la page rechargée, puis recommencez si besoin.")


def load_session(session_id: int) -> CommitteeSession:
    """Staff see every session; a committee member only the sessions they are invited to."""
    session = db.session.get(CommitteeSession, session_id)
    if session is None:
        abort(404)
    if current_user.role is Role.committee and not session.is_member(current_user):
        abort(404)
    return session


@bp.route("/appels/<int:call_id>/seances")
@staff_required
def list_sessions(call_id: int) -> str:
    call = get_or_404(Call, call_id)
    sessions = db.session.scalars(
        select(CommitteeSession).where(CommitteeSession.call_id == call.id).order_by(CommitteeSession.meets_at)
    ).all()
    return render_template("committee/sessions.html", call=call, sessions=sessions)


def _member_choices() -> list[tuple[int, str]]:
    users = db.session.scalars(
        select(User).where(User.role == Role.committee, User.is_active.is_(True)).order_by(User.full_name)
    ).all()
    return [(u.id, f"{u.full_name} ({u.email})") for u in users]


@bp.route("/appels/<int:call_id>/seances/nouvelle", methods=["GET", "POST"])
@staff_required
def new_session(call_id: int) -> str | Response | tuple[str, int]:
    call = get_or_404(Call, call_id)
    form = SessionForm(member_choices=_member_choices(), call=call)
    if form.validate_on_submit():
        members = db.session.scalars(select(User).where(User.id.in_(form.members.data or []))).all()
        try:
            session = ops.create_session(
                call, meets_at=form.meets_at.data, place=form.place.data, chair_name=form.chair_name.data,
                chair_quality=form.chair_quality.data, members=list(members), actor=current_user,
            )
            db.session.commit()
        except DossierError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template("committee/session_form.html", form=form, call=call), 422
        flash("Séance créée : composez maintenant son ordre du jour.", "success")
        return redirect(url_for("committee.show_session", session_id=session.id))
    return render_template("committee/session_form.html", form=form, call=call), (422 if form.errors else 200)


def _candidates(session: CommitteeSession) -> list[tuple[int, str]]:
    listed = {item.dossier_id for item in session.items}
    dossiers = db.session.scalars(
        select(Dossier).where(
            Dossier.call_id == session.call_id,
            Dossier.state.in_([DossierState.instructed, DossierState.deferred]),
        ).options(selectinload(Dossier.structure)).order_by(Dossier.reference)
    ).all()
    return [(d.id, f"{d.reference} — {d.structure.name} ({d.state.title})") for d in dossiers if d.id not in listed]


@bp.route("/seances/<int:session_id>")
@roles_required(Role.officer, Role.admin, Role.committee)
def show_session(session_id: int) -> str:
    session = load_session(session_id)
    staff = current_user.role in STAFF
    retained = {
        i.dossier_id: i.fse_retained_total for i in db.session.scalars(
            select(Instruction).where(Instruction.dossier_id.in_([item.dossier_id for item in session.items]))
        )
    }
    return render_template(
        "committee/session.html", session=session, staff=staff, figures=ops.envelope(session), retained=retained,
        add_form=AddItemForm(dossier_choices=_candidates(session)) if staff else None,
        decision_form=DecisionForm() if staff else None, confirm=ConfirmForm(), Decision=Decision,
        attendance_form=_attendance_form(session, formdata=None) if staff else None,
        SessionStatus=SessionStatus,
    )


def _attendance_form(session: CommitteeSession, **kwargs) -> AttendanceForm:  # type: ignore[no-untyped-def]
    """Checked: every invited member before the session is held, those recorded after."""
    present = [m.id for m in (session.attendees if session.attendance_recorded else session.members)]
    return AttendanceForm(
        member_choices=[(m.id, m.full_name) for m in session.members], present=present,
        other_attendees=session.other_attendees, **kwargs,
    )


def _back(session: CommitteeSession, anchor: str = "") -> Response:
    return redirect(url_for("committee.show_session", session_id=session.id) + anchor)


def _run(session: CommitteeSession, action, success: str, anchor: str = "") -> Response:  # type: ignore[no-untyped-def]
    try:
        action()
        db.session.commit()
    except DossierError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except StaleDataError:
        # Another request changed the same rows between our read and our write.
        db.session.rollback()
        flash(CONFLICT, "error")
    else:
        flash(success, "success")
    return _back(session, anchor)


@bp.route("/seances/<int:session_id>/ordre-du-jour", methods=["POST"])
@staff_required
def add_item(session_id: int) -> Response:
    session = load_session(session_id)
    form = AddItemForm(dossier_choices=_candidates(session))
    if not form.validate_on_submit():
        flash("Choisissez un dossier instruit de l'appel.", "error")
        return _back(session)
    dossier = get_or_404(Dossier, form.dossier_id.data)
    return _run(session, lambda: ops.add_to_agenda(session, dossier, current_user, store=current_store()),
                f"Dossier {dossier.reference} inscrit à l'ordre du jour.", "#ordre-du-jour")


@bp.route("/seances/<int:session_id>/ordre-du-jour/<int:item_id>/<direction>", methods=["POST"])
@staff_required
def move_item(session_id: int, item_id: int, direction: str) -> Response:
    session = load_session(session_id)
    if direction not in ("monter", "descendre") or not ConfirmForm().validate_on_submit():
        abort(400)
    order = [item.id for item in session.items]
    if item_id not in order:
        abort(404)
    index = order.index(item_id)
    other = index - 1 if direction == "monter" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    return _run(session, lambda: ops.reorder_agenda(session, order, current_user), "Ordre du jour modifié.",
                "#ordre-du-jour")


def _attendees(session: CommitteeSession, form: AttendanceForm) -> list[User]:
    chosen = set(form.present.data or [])
    return [member for member in session.members if member.id in chosen]


@bp.route("/seances/<int:session_id>/retraits/<int:item_id>", methods=["POST"])
@staff_required
def remove_item(session_id: int, item_id: int) -> Response:
    session = load_session(session_id)
    item = next((i for i in session.items if i.id == item_id), None)
    if item is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    reference = item.dossier.reference
    return _run(session, lambda: ops.remove_from_agenda(item, current_user),
                f"Dossier {reference} retiré de l'ordre du jour.", "#ordre-du-jour")


def _valid_attendance(session: CommitteeSession) -> AttendanceForm | None:
    """The posted attendance form when valid; otherwise None, with the reason flashed."""
    form = _attendance_form(session)
    if form.validate_on_submit():
        return form
    flash("Présences incomplètes : " + " ".join(e for errors in form.errors.values() for e in errors), "error")
    return None


@bp.route("/seances/<int:session_id>/tenue", methods=["POST"])
@staff_required
def mark_held(session_id: int) -> Response:
    session = load_session(session_id)
    form = _valid_attendance(session)
    if form is None:
        return _back(session, "#presences")
    return _run(session, lambda: ops.mark_held(session, current_user, present=_attendees(session, form),
                                               other_attendees=form.other_attendees.data or ""),
                "Séance tenue : enregistrez la décision prise sur chaque dossier.")


@bp.route("/seances/<int:session_id>/presences", methods=["POST"])
@staff_required
def record_attendance(session_id: int) -> Response:
    session = load_session(session_id)
    form = _valid_attendance(session)
    if form is None:
        return _back(session, "#presences")
    return _run(session, lambda: ops.record_attendance(session, _attendees(session, form),
                                                       form.other_attendees.data or "", current_user),
                "Présences enregistrées.", "#presences")


@bp.route("/seances/<int:session_id>/decisions/<int:item_id>", methods=["POST"])
@staff_required
def record_decision(session_id: int, item_id: int) -> Response:
    session = load_session(session_id)
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.session_id != session.id:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("Décision incomplète : " + " ".join(e for errors in form.errors.values() for e in errors), "error")
        return _back(session, f"#item-{item.id}")
    return _run(
        session,
        lambda: ops.record_decision(item, Decision(form.decision.data), current_user,
                                    amount=form.amount.data, motive=form.motive.data or ""),
        f"Décision enregistrée pour le dossier {item.dossier.reference}.", f"#item-{item.id}",
    )


@bp.route("/seances/<int:session_id>/cloture", methods=["POST"])
@staff_required
def close_session(session_id: int) -> Response:
    session = load_session(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        letters = ops.close_session(session, current_user, store=current_store())
        db.session.commit()
    except DossierError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(session)
    for letter in letters:
        notify_decision(letter.dossier, letter.kind, letter.data)
    flash(f"Séance close : le procès-verbal est figé et {len(letters)} lettre(s) de notification "
          "envoyée(s) aux porteurs.", "success")
    return _back(session)


# Documents -----------------------------------------------------------------------------------


@bp.route("/seances/<int:session_id>/fiches/<int:item_id>.pdf")
@roles_required(Role.officer, Role.admin, Role.committee)
def download_fiche(session_id: int, item_id: int) -> Response:
    session = load_session(session_id)
    item = next((i for i in session.items if i.id == item_id), None)
    if item is None:
        abort(404)
    data, render = documents.fiche_pdf(item.dossier, store=current_store())
    db.session.commit()  # keeps the rendering for the next reader
    name = f"fiche-synthese-{item.dossier.reference}.pdf"
    return audited(send_bytes(data, name, "application/pdf"), item.dossier, "fiche", name,
                   sha256=render.sha256, session_id=session.id)


@bp.route("/seances/<int:session_id>/dossier-du-comite.pdf")
@roles_required(Role.officer, Role.admin, Role.committee)
def download_pack(session_id: int) -> Response:
    session = load_session(session_id)
    try:
        data = documents.committee_pack(session, store=current_store())
    except documents.DocumentUnavailable as exc:
        flash(str(exc), "error")
        return _back(session)
    db.session.commit()
    name = f"dossier-comite-{session.call.code}-seance-{session.id}.pdf"
    return audited(send_bytes(data, name, "application/pdf"), session, "pack", name,
                   sha256=sha256_hex(data), dossiers=[item.dossier_id for item in session.items])


@bp.route("/seances/<int:session_id>/proces-verbal.pdf")
@roles_required(Role.officer, Role.admin, Role.committee)
def download_minutes(session_id: int) -> Response:
    session = load_session(session_id)
    if session.minutes_file is None:
        abort(404)
    name = f"proces-verbal-{session.call.code}-seance-{session.id}.pdf"
    response = send_stored(session.minutes_file, name, "application/pdf", session.minutes_sha256 or "")
    return audited(response, session, "minutes", name, sha256=session.minutes_sha256)
