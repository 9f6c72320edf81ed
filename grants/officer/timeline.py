"""The audit trail of a dossier as officers read it: French sentences, French state titles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..dossier_sections import SECTIONS_BY_KEY
from ..models import AuditEntry, DossierState, Opinion

STATE_TITLES = {state.value: state.title for state in DossierState}
OPINION_TITLES = {opinion.value: opinion.title.lower() for opinion in Opinion}
SCAN_TITLES = {"clean": "saine", "infected": "bloquée par l'antivirus", "pending": "en attente d'analyse",
               "unchecked": "non analysée"}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    text: str
    #: "Déposé → Recevable", or "" for an entry that changes no state.
    states: str
    motive: str


def _state(code: str | None) -> str:
    return STATE_TITLES.get(code or "", code or "—")


def describe(action: str, details: dict[str, Any]) -> str:
    """A French sentence for an audit entry (its own label first: transitions, downloads)."""
    if details.get("label"):
        return str(details["label"])
    name = details.get("name") or ""
    if action == "dossier.create":
        return "Dossier créé"
    if action == "dossier.save_section":
        section = SECTIONS_BY_KEY.get(details.get("section") or "")
        return f"Section « {section.title if section else details.get('section')} » enregistrée"
    if action == "dossier.add_attachment":
        replaced = details.get("replaced") or []
        return f"Pièce ajoutée : « {name} »" + (f" (remplace « {', '.join(replaced)} »)" if replaced else "")
    if action == "dossier.remove_attachment":
        return f"Pièce retirée : « {name} »"
    if action == "dossier.assign":
        if details.get("to_name"):
            return f"Dossier attribué à {details['to_name']}"
        return "Dossier désattribué" + (f" (suivi jusque-là par {details['from_name']})" if details.get("from_name") else "")
    if action == "dossier.admissibility_checklist":
        overridden = details.get("overridden") or []
        return "Grille de recevabilité enregistrée" + (
            f" (avis du système écarté : {', '.join(overridden)})" if overridden else "")
    if action == "dossier.instruction_saved":
        opinion = OPINION_TITLES.get(details.get("opinion") or "", details.get("opinion") or "")
        what = "Instruction close" if details.get("final") else "Valeurs retenues enregistrées"
        return f"{what} (avis {opinion})" if opinion else what
    if action == "dossier.message":
        return "Message envoyé" + (f" avec la pièce « {details['attachment']} »" if details.get("attachment") else "")
    for prefix, what in (("dossier.attachment_scan_", "Pièce"), ("dossier.message_scan_", "Pièce d'un message")):
        if action.startswith(prefix):
            verdict = SCAN_TITLES.get(action.removeprefix(prefix), action.removeprefix(prefix))
            signature = f" ({details['signature']})" if details.get("signature") else ""
            return f"Analyse antivirus : {what.lower()} « {name} » {verdict}{signature}"
    return f"Action « {action} »"


def timeline(entries: list[AuditEntry]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=entry.at,
            actor=entry.actor.full_name if entry.actor else "système",
            text=describe(entry.action, entry.details or {}),
            states=f"{_state(entry.from_state)} → {_state(entry.to_state)}" if entry.from_state else "",
            motive=str((entry.details or {}).get("motive") or ""),
        )
        for entry in entries
    ]
