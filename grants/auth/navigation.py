"""The main menu of each role (templates/base.html), built from existing endpoints only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Call, Role
from . import bp

# Calls listed under "Séances du comité": the most recent ones (the home page lists all).
NAV_CALLS = 6


@dataclass
class NavEntry:
    label: str
    url: str = ""
    # aria-current: "page" on the page itself, "true" on the entry of the section it belongs to.
    current: str | None = None
    children: list[NavEntry] = field(default_factory=list)
    key: str = ""


def _entry(label: str, endpoint: str, *, section: tuple[str, ...] = (), **values: Any) -> NavEntry:
    here = request.endpoint or ""
    if here == endpoint and all((request.view_args or {}).get(k) == v for k, v in values.items()):
        current = "page"
    elif any(here == s or (s.endswith(".") and here.startswith(s)) for s in section):
        current = "true"
    else:
        current = None
    return NavEntry(label, url_for(endpoint, **values), current)


def _sessions_menu() -> NavEntry | None:
    calls = db.session.scalars(select(Call).order_by(Call.closes_at.desc(), Call.id.desc()).limit(NAV_CALLS)).all()
    if not calls:
        return None
    children = [_entry(f"{c.code} — {c.title}", "committee.list_sessions", call_id=c.id) for c in calls]
    here = request.endpoint or ""
    current = "true" if here.startswith("committee.") else None
    return NavEntry("Séances du comité", current=current, children=children, key="menu-seances")


# Applicant pages other than the structure profile belong to "Mes dossiers".
_STRUCTURE_PAGES = ("applicant.edit_structure", "applicant.decide_membership")


def navigation() -> list[NavEntry]:
    """The menu entries the current user sees, the current page marked."""
    user = current_user
    if not user.is_authenticated:
        return []
    if user.role is Role.applicant:
        if user.is_pending_member:
            return [_entry("Demande de rattachement", "auth.membership_pending")]
        here = request.endpoint or ""
        in_dossiers = here.startswith(("applicant.", "dossiers.")) and here not in _STRUCTURE_PAGES
        home = _entry("Mes dossiers", "main.index")
        if in_dossiers:
            home.current = "true"
        return [home, _entry("Profil de la structure", "applicant.edit_structure", section=_STRUCTURE_PAGES)]
    if user.role is Role.committee:
        return [_entry("Mes séances", "main.index", section=("committee.", "dossiers."))]
    structure_pages = ("officer.list_structures", "officer.show_structure")
    entries = [_entry("Appels à projets", "main.index", section=("officer.", "dossiers."))]
    if (request.endpoint or "") in structure_pages:
        entries[0].current = None
    sessions = _sessions_menu()
    if sessions is not None:
        entries.append(sessions)
    entries.append(_entry("Structures", "officer.list_structures", section=structure_pages))
    if user.role is Role.admin:
        entries += [
            _entry("Paramétrage des appels", "admin.list_calls", section=("admin.new_call", "admin.edit_call")),
            _entry("Comptes", "admin.list_users", section=("admin.new_user", "admin.decide_membership")),
            _entry("Listes QPV", "admin.list_qpv_lists", section=("admin.show_qpv_list",)),
        ]
    return entries


@bp.app_context_processor
def navigation_context() -> dict[str, Any]:
    return {"navigation": navigation}
