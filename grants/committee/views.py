"""Committee sessions: staff build the agenda and record decisions; members consult."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from ..dossiers.views import audited, send_bytes, send_stored
from ..extensions import db
from ..finance import STRANDS
from ..forms.committee import AddItemForm, AttendanceForm, DecisionForm, EditSessionForm, HoldForm, SessionForm
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
    utcnow,
)
from ..notifications import notify_convocation, notify_decision
from ..operations import committee as ops
from ..operations import documents
from ..operations.committee import DecisionError
from ..operations.dossiers import DossierError
from ..security import STAFF, get_or_404, roles_required
from ..storage import current_store, sha256_hex
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
        select(CommitteeSession).where(CommitteeSession.call_id == call.id).order_by(CommitteeSession.number)
    ).all()
    return render_template("committee/sessions.html", call=call, sessions=sessions)


def _member_choices(session: CommitteeSession | None = None) -> list[tuple[int, str]]:
    """Active committee accounts, and the session's own members even if deactivated since."""
    users = db.session.scalars(
        select(User).where(User.role == Role.committee, User.is_active.is_(True)).order_by(User.full_name)
    ).all()
    listed = {u.id for u in users}
    extra = [m for m in (session.members if session else []) if m.id not in listed]
    return [(u.id, f"{u.full_name} ({u.email})") for u in [*users, *extra]]


def _members(form: SessionForm) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(form.members.data or []))).all())


@bp.route("/appels/<int:call_id>/seances/nouvelle", methods=["GET", "POST"])
@staff_required
def new_session(call_id: int) -> str | Response | tuple[str, int]:
    call = get_or_404(Call, call_id)
    form = SessionForm(member_choices=_member_choices(), call=call)
    if form.validate_on_submit():
        try:
            session = ops.create_session(
                call, meets_at=form.meets_at.data, place=form.place.data, chair_name=form.chair_name.data,
                chair_quality=form.chair_quality.data, members=_members(form), actor=current_user,
            )
            db.session.commit()
        except DossierError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return render_template("committee/session_form.html", form=form, call=call, session=None), 422
        flash(f"Séance n° {session.number} créée : composez maintenant son ordre du jour.", "success")
        if not session.members:
            flash(NO_MEMBERS, "warning")
        return redirect(url_for("committee.show_session", session_id=session.id))
    return render_template("committee/session_form.html", form=form, call=call, session=None), (
        422 if form.errors else 200)


NO_MEMBERS = ("Aucun membre du comité n'est invité à cette séance : personne ne recevra la convocation ni ne "
              "pourra consulter le dossier du comité. Modifiez la séance pour inviter ses membres.")


@bp.route("/seances/<int:session_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_session(session_id: int) -> str | Response | tuple[str, int]:
    session = load_session(session_id)
    if not session.can_edit(current_user):
        abort(403)
    current = {} if request.method == "POST" else {
        "meets_at": session.meets_at, "place": session.place, "chair_name": session.chair_name,
        "chair_quality": session.chair_quality, "members": [m.id for m in session.members],
        "version": session.version,
    }
    form = EditSessionForm(member_choices=_member_choices(session), **current)
    if form.validate_on_submit():
        if str(form.version.data) != str(session.version):
            form.form_errors.append(CONFLICT_EDIT)
            return render_template("committee/session_form.html", form=form, call=session.call, session=session), 409
        try:
            ops.update_session(
                session, meets_at=form.meets_at.data, place=form.place.data, chair_name=form.chair_name.data,
                chair_quality=form.chair_quality.data, members=_members(form), actor=current_user,
            )
            db.session.commit()
        except DossierError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return render_template("committee/session_form.html", form=form, call=session.call, session=session), 422
        except StaleDataError:
            db.session.rollback()
            form.form_errors.append(CONFLICT_EDIT)
            return render_template("committee/session_form.html", form=form, call=session.call, session=session), 409
        flash(f"{session.label.capitalize()} modifiée.", "success")
        if not session.members:
            flash(NO_MEMBERS, "warning")
        return redirect(url_for("committee.show_session", session_id=session.id))
    return render_template("committee/session_form.html", form=form, call=session.call, session=session), (
        422 if form.errors else 200)


CONFLICT_EDIT = ("La séance a été modifiée entre-temps par une autre personne : rien n'a été enregistré. "
                 "Votre saisie est conservée ci-dessous ; rechargez la page pour voir la séance à jour.")


@bp.route("/seances/<int:session_id>/suppression", methods=["POST"])
@staff_required
def delete_session(session_id: int) -> Response:
    session = load_session(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    call_id, label = session.call_id, session.label
    try:
        ops.delete_session(session, current_user)
        db.session.commit()
    except (DossierError, StaleDataError) as exc:
        db.session.rollback()
        flash(str(exc) if isinstance(exc, DossierError) else CONFLICT, "error")
        return _back(session)
    flash(f"{label.capitalize()} supprimée : son numéro ne sera pas réattribué.", "success")
    return redirect(url_for("committee.list_sessions", call_id=call_id))


@bp.route("/seances/<int:session_id>/convocation", methods=["POST"])
@staff_required
def convene_session(session_id: int) -> Response:
    session = load_session(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        members = ops.convene(session, current_user)
        agenda = documents.convocation_agenda(session)
        db.session.commit()
    except DossierError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(session, "#convocation")
    except StaleDataError:
        db.session.rollback()
        flash(CONFLICT, "error")
        return _back(session, "#convocation")
    notify_convocation(session, members, agenda)
    flash(f"Convocation envoyée à {len(members)} membre{'s' if len(members) > 1 else ''} : "
          + ", ".join(m.full_name for m in members) + ".", "success")
    return _back(session, "#convocation")


def _candidates(session: CommitteeSession) -> list[tuple[int, str]]:
    listed = {item.dossier_id for item in session.items}
    dossiers = db.session.scalars(
        select(Dossier).where(
            Dossier.call_id == session.call_id,
            Dossier.state.in_([DossierState.instructed, DossierState.deferred]),
        ).options(selectinload(Dossier.structure)).order_by(Dossier.reference)
    ).all()
    return [(d.id, f"{d.reference} — {d.structure.name} ({d.state.title})") for d in dossiers if d.id not in listed]


def _decision_form(item: AgendaItem, plan: ops.RetainedPlan | None, **kwargs) -> DecisionForm:  # type: ignore[no-untyped-def]
    """The item's decision form as the page first shows it: the retained figures for a first
    decision, the decision recorded for a correction."""
    if item.decision is None:
        defaults = {f"amount_{s}": plan.fse[s] for s in STRANDS} if plan else {}
        return DecisionForm(item_id=item.id, formdata=None, current="", **defaults, **kwargs)
    granted = item.granted or ({s: plan.fse[s] for s in STRANDS} if plan else {})
    return DecisionForm(
        item_id=item.id, formdata=None, decision=item.decision.value, motive=item.motive,
        current=item.decision_stamp, **{f"amount_{s}": granted.get(s) for s in STRANDS}, **kwargs,
    )


def _session_page(
    session: CommitteeSession, *, posted: dict[int, DecisionForm] | None = None, hold_form: HoldForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    staff = current_user.role in STAFF
    instructions = {
        i.dossier_id: i for i in db.session.scalars(
            select(Instruction).where(Instruction.dossier_id.in_([item.dossier_id for item in session.items]))
        )
    }
    plans = {dossier_id: ops.plan_of(i) for dossier_id, i in instructions.items() if i.finance}
    decision_forms = {}
    if staff and session.status is SessionStatus.held:
        decision_forms = {item.id: (posted or {}).get(item.id) or _decision_form(item, plans.get(item.dossier_id))
                          for item in session.items}
    now = utcnow()
    fingerprint = ops.convocation_fingerprint(session) if session.convocation_fingerprint else None
    decided = [item for item in session.items if item.decision is not None]
    return render_template(
        "committee/session.html", session=session, staff=staff, figures=ops.envelope(session),
        instructions=instructions, plans=plans, strands=STRANDS,
        add_form=AddItemForm(dossier_choices=_candidates(session)) if staff else None,
        decision_forms=decision_forms, confirm=ConfirmForm(), Decision=Decision,
        attendance_form=_attendance_form(session, formdata=None) if staff else None,
        hold_form=hold_form or (_attendance_form(session, HoldForm, formdata=None) if staff else None),
        SessionStatus=SessionStatus, now=now, can_hold=session.can_mark_held(current_user, now),
        convocation_outdated=fingerprint is not None and fingerprint != session.convocation_fingerprint,
        undecided=[item.dossier.reference for item in session.items if item.decision is None],
        letters={d: sum(1 for item in decided if item.decision is d) for d in Decision},
    ), status


@bp.route("/seances/<int:session_id>")
@roles_required(Role.officer, Role.admin, Role.committee)
def show_session(session_id: int) -> tuple[str, int]:
    return _session_page(load_session(session_id))


def _attendance_form(session: CommitteeSession, form_class: type[AttendanceForm] = AttendanceForm,
                     **kwargs) -> AttendanceForm:  # type: ignore[no-untyped-def]
    """Checked: every invited member before the session is held, those recorded after."""
    present = [m.id for m in (session.attendees if session.attendance_recorded else session.members)]
    return form_class(
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
def mark_held(session_id: int) -> Response | tuple[str, int]:
    session = load_session(session_id)
    form = _attendance_form(session, HoldForm)
    if not form.validate_on_submit():
        return _session_page(session, hold_form=form, status=422)
    try:
        ops.mark_held(session, current_user, present=_attendees(session, form),
                      other_attendees=form.other_attendees.data or "", without_members=bool(form.without_members.data))
        db.session.commit()
    except DecisionError as exc:
        db.session.rollback()
        form.without_members.errors = [str(exc)]
        return _session_page(session, hold_form=form, status=422)
    except DossierError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(session, "#presences")
    except StaleDataError:
        db.session.rollback()
        flash(CONFLICT, "error")
        return _back(session, "#presences")
    flash("Séance tenue : enregistrez la décision prise sur chaque dossier.", "success")
    return _back(session)


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
def record_decision(session_id: int, item_id: int) -> Response | tuple[str, int]:
    """Record the committee's decision on an item, or correct the one recorded (the form
    names it): bad input comes back next to its field, everything typed kept."""
    session = load_session(session_id)
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.session_id != session.id:
        abort(404)
    form = DecisionForm(item_id=item.id)
    if not form.validate_on_submit():
        return _session_page(session, posted={item.id: form}, status=422)
    decision = Decision(form.decision.data)
    options = {"amounts": form.amounts() if decision is Decision.selected else None, "motive": form.motive.data or ""}
    correcting = bool(form.current.data)
    reference = item.dossier.reference
    try:
        if correcting:
            ops.correct_decision(item, decision, current_user, expected=form.current.data, **options)
        else:
            ops.record_decision(item, decision, current_user, **options)
        db.session.commit()
    except DecisionError as exc:
        db.session.rollback()
        if exc.field:
            getattr(form, exc.field).errors = [str(exc)]
        else:
            form.form_errors.append(str(exc))
        return _session_page(load_session(session_id), posted={item_id: form}, status=422)
    except DossierError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(session, f"#item-{item_id}")
    except StaleDataError:
        db.session.rollback()
        flash(CONFLICT, "error")
        return _back(session, f"#item-{item_id}")
    flash(f"Décision {'corrigée' if correcting else 'enregistrée'} pour le dossier {reference}.", "success")
    return _back(session, f"#item-{item_id}")


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
        notify_decision(letter.dossier, letter.kind, letter.data, letter.session_date)
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
    name = documents.pack_filename(session)
    return audited(send_bytes(data, name, "application/pdf"), session, "pack", name,
                   sha256=sha256_hex(data), dossiers=[item.dossier_id for item in session.items])


@bp.route("/seances/<int:session_id>/proces-verbal.pdf")
@roles_required(Role.officer, Role.admin, Role.committee)
def download_minutes(session_id: int) -> Response:
    session = load_session(session_id)
    if session.minutes_file is None:
        abort(404)
    name = documents.minutes_filename(session)
    response = send_stored(session.minutes_file, name, "application/pdf", session.minutes_sha256 or "")
    return audited(response, session, "minutes", name, sha256=session.minutes_sha256)
