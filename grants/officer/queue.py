"""The officer queue of a call: list, filters, assignment and exports."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, send_file
from flask import stream_with_context, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from .. import exports
from ..extensions import db
from ..forms.queue import AssignForm, QueueFilterForm
from ..models import Call, Dossier
from ..notifications import notify_assignment
from ..operations import assignment
from ..security import STAFF, get_or_404, roles_required
from . import bp
from .queries import DEFAULT_SORT, PER_PAGE, QUEUE_STATES, QueueFilters, queue_page, queue_sizes, staff_users

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Table columns: (sort key, header, right-aligned).
QUEUE_COLUMNS = [
    ("reference", "Référence", False),
    ("structure", "Structure", False),
    ("departement", "Dépt", False),
    ("state", "État", False),
    ("submitted_at", "Déposé le", False),
    ("requested", "FSE+ demandé", True),
    ("maximum", "FSE+ maximum", True),
    ("assignee", "Attribué à", False),
]


@bp.app_context_processor
def queue_helpers() -> dict[str, Any]:
    # A callable, so the GROUP BY runs only where a template asks for it.
    return {"queue_sizes": queue_sizes}


def _filters() -> tuple[QueueFilterForm, QueueFilters]:
    """The filters of the request's query string, through the GET form."""
    form = QueueFilterForm(formdata=request.args)
    return form, QueueFilters(**form.values(), page=request.args.get("page", 1, type=int) or 1)


@bp.route("/appels/<int:call_id>/dossiers")
@roles_required(*STAFF)
def show_queue(call_id: int) -> str:
    call = get_or_404(Call, call_id)
    form, filters = _filters()
    user = current_user._get_current_object()
    page = queue_page(call, filters, user)
    return render_template(
        "officer/queue.html", call=call, form=form, filters=filters, page=page,
        assign_form=AssignForm(staff=staff_users(), me=user), states=QUEUE_STATES,
        columns=QUEUE_COLUMNS, default_sort=DEFAULT_SORT, per_page=PER_PAGE,
        has_dossier_page="officer.show_dossier" in current_app.view_functions,
    )


@bp.route("/dossiers/<int:dossier_id>/attribution", methods=["POST"])
@roles_required(*STAFF)
def assign_dossier(dossier_id: int) -> BaseResponse:
    dossier = get_or_404(Dossier, dossier_id)
    user = current_user._get_current_object()
    if not dossier.can_view(user):
        abort(404)  # drafts are private to their structure
    # The form's action carries the queue's query string: go back to the same filtered page.
    _, filters = _filters()
    back = url_for("officer.show_queue", call_id=dossier.call_id, **filters.args())
    form = AssignForm(staff=staff_users(), me=user)
    if not form.validate():
        flash("Choisissez un agent de la DREETS dans la liste.", "error")
        return redirect(back)
    assignee = form.assignee_user
    try:
        changed = assignment.assign_dossier(dossier, assignee, user)
    except assignment.AssignmentError as exc:
        flash(str(exc), "error")
        return redirect(back)
    db.session.commit()
    if not changed:
        flash(f"Le dossier {dossier.reference} était déjà attribué ainsi : rien n'a changé.", "info")
    elif assignee is None:
        flash(f"Le dossier {dossier.reference} n'est plus attribué.", "success")
    elif assignee.id == user.id:
        flash(f"Le dossier {dossier.reference} vous est attribué.", "success")
    else:
        notify_assignment(dossier, assignee, user)
        flash(f"Le dossier {dossier.reference} est attribué à {assignee.full_name}, prévenu·e par courriel.",
              "success")
    return redirect(back)


@bp.route("/appels/<int:call_id>/dossiers.csv")
@roles_required(*STAFF)
def export_queue_csv(call_id: int) -> Response:
    call = get_or_404(Call, call_id)
    _, filters = _filters()
    rows = exports.export_rows(call, filters, current_user._get_current_object())
    body = stream_with_context(chunk.encode("utf-8") for chunk in exports.csv_chunks(rows))
    response = Response(body, mimetype="text/csv", content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(call, "csv")}"'
    return response


@bp.route("/appels/<int:call_id>/dossiers.xlsx")
@roles_required(*STAFF)
def export_queue_xlsx(call_id: int) -> Response:
    call = get_or_404(Call, call_id)
    _, filters = _filters()
    workbook = exports.xlsx_file(call, filters, current_user._get_current_object())
    response = send_file(
        workbook, mimetype=XLSX_MIME, as_attachment=True, download_name=exports.filename(call, "xlsx"),
        conditional=False, etag=False, max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
