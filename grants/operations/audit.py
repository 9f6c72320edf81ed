from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from ..extensions import db
from ..models import AuditEntry, User


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


# What staff downloaded, by kind: the label shown on the dossier's audit trail.
DOWNLOAD_LABELS = {
    "attachment": "Pièce téléchargée : « {name} »",
    "attachment_preview": "Pièce consultée (aperçu) : « {name} »",
    "message_attachment": "Pièce jointe d'un message téléchargée : « {name} »",
    "receipt": "Accusé de réception téléchargé : « {name} »",
    "letter": "Lettre de notification téléchargée : « {name} »",
}


def log_download(dossier: Any, actor: User, kind: str, name: str, **details: Any) -> AuditEntry | None:
    """Record that DREETS staff read a file of ``dossier`` (applicants reading their own are not logged).

    The entry is on the dossier, so it appears on the officer's audit trail. Flushes only.
    """
    if not getattr(actor, "is_staff", False):
        return None
    return log_action(
        "dossier.download", dossier, actor,
        details={"label": DOWNLOAD_LABELS[kind].format(name=name), "kind": kind, "file": name, **details},
    )
