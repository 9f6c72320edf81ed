"""Messages between DREETS officers and a structure on a submitted dossier."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import antivirus, storage
from ..access import get_dossier_or_404
from ..extensions import db
from ..forms.messages import MessageForm
from ..models import Dossier, Message, User
from ..operations import messages as ops
from ..security import login_required_any
from ..uploads import UploadRefused, read_limited
from . import bp
from .views import audited, refuse_unscanned, send_stored


def _store() -> storage.FileStore:
    return storage.current_store()


def _max_upload() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"] - 64 * 1024


def _dossier_for_messages(dossier_id: int) -> Dossier:
    """404 as well when the dossier is seen but not open to messages (a draft, the committee)."""
    dossier = get_dossier_or_404(dossier_id)
    if not dossier.can_message(current_user):
        abort(404)
    return dossier


def _dossier_url(dossier: Dossier) -> str:
    """The dossier's own page for the current user (the officer's page when it exists)."""
    if dossier.is_member(current_user):
        return url_for("applicant.show_dossier", dossier_id=dossier.id)
    if "officer.show_dossier" in current_app.view_functions:
        return url_for("officer.show_dossier", dossier_id=dossier.id)
    return url_for("main.index")


@bp.app_template_global("unread_message_count")
def unread_message_count(dossier: Dossier, user: User | None = None) -> int:
    """For ``_messages_link.html``: unread messages of the other side for ``user`` (default: current)."""
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return 0
    return ops.unread_count(dossier, user)


@bp.route("/<int:dossier_id>/messages", methods=["GET", "POST"])
@login_required_any
def messages(dossier_id: int) -> str | Response | tuple[str, int]:
    dossier = _dossier_for_messages(dossier_id)
    form = MessageForm()
    if request.method == "GET":
        fresh = ops.mark_thread_read(dossier, current_user)
        if fresh:
            db.session.commit()
        return _render(dossier, form, fresh_ids={m.id for m in fresh})

    if form.validate_on_submit():
        upload = form.attachment.data
        try:
            data = (upload.filename, read_limited(upload.stream, _max_upload())) if upload else None
            message = ops.post_message(
                dossier, current_user, form.body.data, data, store=_store(), max_bytes=_max_upload(),
                scanner=antivirus.current_scanner(),
            )
            db.session.commit()
        except UploadRefused as exc:
            db.session.rollback()
            form.attachment.errors.append(f"« {upload.filename} » refusé : {exc}")
        except ops.MessageError as exc:
            db.session.rollback()
            form.body.errors.append(str(exc))
        else:
            ops.notify_message_posted(message)
            flash("Votre message est envoyé.", "success")
            return redirect(url_for("dossiers.messages", dossier_id=dossier_id, _anchor=f"message-{message.id}"))
    dossier = _dossier_for_messages(dossier_id)
    return _render(dossier, form), 422


def _render(dossier: Dossier, form: MessageForm, fresh_ids: set[int] | None = None) -> str:
    return render_template(
        "dossiers/messages.html", dossier=dossier, form=form, fresh_ids=fresh_ids or set(),
        own_side_is_staff=not dossier.is_member(current_user), dossier_url=_dossier_url(dossier),
        max_mb=_max_upload() // (1024 * 1024),
    )


@bp.route("/<int:dossier_id>/messages/<int:message_id>/piece")
@login_required_any
def message_attachment(dossier_id: int, message_id: int) -> Response:
    dossier = _dossier_for_messages(dossier_id)
    message = db.session.get(Message, message_id)
    if message is None or message.dossier_id != dossier.id or message.attachment_file is None:
        abort(404)
    refused = refuse_unscanned(message, dossier)
    if refused is not None:
        return refused
    response = send_stored(
        message.attachment_file, message.attachment_name, message.attachment_mime, message.attachment_sha256
    )
    return audited(response, dossier, "message_attachment", message.attachment_name,
                   message_id=message.id, sha256=message.attachment_sha256)
