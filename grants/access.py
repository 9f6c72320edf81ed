"""Object-level access: one helper loads a dossier and asks its permission predicates."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from .extensions import db
from .models import Attachment, Dossier


def get_dossier_or_404(dossier_id: int, action: str = "view") -> Dossier:
    """A dossier the current user may see (404 otherwise, so ids leak nothing), and may
    ``action`` (``edit``, ``submit``, ``withdraw``…: 403 when seen but not allowed)."""
    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None or not dossier.can_view(current_user):
        abort(404)
    if action != "view" and not getattr(dossier, f"can_{action}")(current_user):
        abort(403)
    return dossier


def get_attachment_or_404(dossier: Dossier, attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.dossier_id != dossier.id:
        abort(404)
    return attachment
