from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import Call, User
from .audit import log_action

CALL_FIELDS = (
    "code", "title", "programme", "opens_at", "closes_at", "envelope", "fse_rate",
    "cej_forfait_per_youth", "share_reperage", "share_sortie_emploi", "flat_rate_other_costs",
    "required_attachments", "admissibility_criteria", "qpv_list_id",
)
#: What a new edition of a call takes from the previous one: everything but its code and
#: calendar, which the admin types (and nothing of its dossiers).
DUPLICATED_FIELDS = tuple(key for key in CALL_FIELDS if key not in ("code", "opens_at", "closes_at"))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, dict, int, str)) or value is None:
        return value
    return str(value)


def create_call(data: dict[str, Any], actor: User | None, *, duplicated_from: Call | None = None) -> Call:
    """A new call; ``duplicated_from``: the call whose next edition it is (said in the audit)."""
    call = Call(**{k: data[k] for k in CALL_FIELDS if k in data})
    db.session.add(call)
    details = {k: _jsonable(getattr(call, k)) for k in CALL_FIELDS}
    if duplicated_from is not None:
        details["duplicated_from"] = {"id": duplicated_from.id, "code": duplicated_from.code}
    log_action("call.create", call, actor, details=details)
    return call


def update_call(call: Call, data: dict[str, Any], actor: User) -> dict[str, Any]:
    """Apply ``data``; returns and audits what changed (before, after)."""
    changes: dict[str, Any] = {}
    for key in CALL_FIELDS:
        if key in data and getattr(call, key) != data[key]:
            changes[key] = [_jsonable(getattr(call, key)), _jsonable(data[key])]
            setattr(call, key, data[key])
    if changes:
        db.session.flush()
        log_action("call.update", call, actor, details=changes)
    return changes
