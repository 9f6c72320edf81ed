"""The officer queue of a call: list, filters, assignment and exports."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, send_file
from flask import stream_with_context, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from .. import exports
from ..extensions import db
from ..forms.queue import AssignForm, QueueFilterForm
from ..models import Call, Dossier
from ..notifications import notify_assignment
from ..operations import assignment
from ..pagination import requested_page
from ..security import STAFF, get_or_404, roles_required
from . import bp
from .queries import DEFAULT_SORT, PER_PAGE, QUEUE_STATES, QueueFilters, queue_page, queue_sizes, staff_users

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Table columns: (sort key, header, right-aligned).
QUEUE_COLUMNS = [
    ("reference", "Référence", False),
    ("title", "Projet", False),
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
    return form, QueueFilters(**form.values(), page=requested_page(request.args))


@bp.route("/appels/<int:call_id>/dossiers")
@roles_required(*STAFF)
def show_queue(call_id: int) -> str:
    call = get_or_404(Call, call_id)
    form, filters = _filters()
    user = current_user._get_current_object()
    page = queue_page(call, filters, user)
    assign_form = AssignForm(staff=staff_users(), me=user)
    return render_template(
        "officer/queue.html", call=call, form=form, filters=filters, page=page,
        assign_form=assign_form, states=QUEUE_STATES,
        columns=QUEUE_COLUMNS, default_sort=DEFAULT_SORT, per_page=PER_PAGE,
        has_dossier_page="officer.show_dossier" in current_app.view_functions,
        row_links=_row_links(page.dossiers, filters), assignee_options=_assignee_options(assign_form),
    )


# Each of the 50 rows links to its dossier and posts its own assignment form, with the
# same list of officers: URLs are built once and the options rendered once per selected
# value, instead of 100 url_for and 50 × N escaped <option> per page.
_SENTINEL = "2147483647"


def _row_links(dossiers: list[Dossier], filters: QueueFilters) -> dict[int, tuple[str, str]]:
    """dossier id → (its page, its assignment form's action keeping the queue's filters)."""
    show = url_for("officer.show_dossier", dossier_id=int(_SENTINEL))
    assign = url_for("officer.assign_dossier", dossier_id=int(_SENTINEL), **filters.args())
    return {d.id: (show.replace(_SENTINEL, str(d.id), 1), assign.replace(_SENTINEL, str(d.id), 1)) for d in dossiers}


def _assignee_options(form: AssignForm) -> Any:
    """``options(assigned_to_id)``: the <option> list with that officer selected, rendered
    once per distinct value on the page."""
    choices = [(str(choice.value), choice.label) for choice in form.assignee.choices]
    option, chosen = Markup('<option value="{}">{}</option>'), Markup('<option value="{}" selected>{}</option>')
    rendered: dict[str, Markup] = {}

    def options(assigned_to_id: int | None) -> Markup:
        selected = str(assigned_to_id) if assigned_to_id else ""
        if selected not in rendered:  # Markup.format escapes the values and labels
            rendered[selected] = Markup("").join(
                (chosen if value == selected else option).format(value, label) for value, label in choices
            )
        return rendered[selected]

    return options


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
