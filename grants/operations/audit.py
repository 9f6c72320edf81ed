from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from ..extensions import db
from ..models import AuditEntry, Role, User


def log_action(
    action: str,
    obj: Any,
    actor: User | None,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry for ``obj`` (flushed so the object has its id)."""
    db.session.flush()
    entry = AuditEntry(
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        actor_id=actor.id if actor is not None and not getattr(actor, "is_anonymous", False) else None,
        from_state=from_state,
        to_state=to_state,
        details=details or {},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# What staff and committee members downloaded, by kind: the label shown on the audit trail.
DOWNLOAD_LABELS = {
    "attachment": "Pièce téléchargée : « {name} »",
    "attachment_preview": "Pièce consultée (aperçu) : « {name} »",
    "message_attachment": "Pièce jointe d'un message téléchargée : « {name} »",
    "receipt": "Accusé de réception téléchargé : « {name} »",
    "letter": "Lettre de notification téléchargée : « {name} »",
    "fiche": "Fiche de synthèse téléchargée : « {name} »",
    "pack": "Dossier du comité téléchargé : « {name} »",
    "minutes": "Procès-verbal téléchargé : « {name} »",
}


def log_download(obj: Any, actor: User, kind: str, name: str, **details: Any) -> AuditEntry | None:
    """Record that someone other than the structure read a document: DREETS staff a file of a
    dossier, a committee member a fiche, the pack or the minutes of their session.

    ``obj`` is the dossier (the entry appears on the officer's audit trail) or, for the
    session's own documents, the committee session. Applicants reading their own dossier's
    files are not logged. Flushes only.
    """
    if actor.role is Role.applicant:
        return None
    action = "dossier.download" if type(obj).__name__ == "Dossier" else "session.download"
    return log_action(
        action, obj, actor,
        details={"label": DOWNLOAD_LABELS[kind].format(name=name), "kind": kind, "file": name, **details},
    )
