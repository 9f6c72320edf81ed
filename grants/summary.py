"""The *récapitulatif* of a dossier: the whole dossier in one PDF, for the applicant's last
read before submission (the working copy) and for their records after (a frozen version).

As for the other documents (``grants/documents.py``), :func:`summary_context` builds the
context from plain data (the content JSON, the structure profile, the pièces, the stored
plan), never from ORM objects, and carries the fingerprint of that data;
:func:`summary_of` gathers that data for a dossier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .documents import format_siret
from .dossier_sections import SECTIONS, missing_items, stored_result
from .extensions import db
from .finance import FIGURE_LABELS, FIGURES, STRAND_LABELS, STRANDS
from .forms.dossier import INDICATORS, POST_CATEGORIES
from .models import DossierState, Qpv, StructureKind, utcnow
from .operations.dossiers import attachment_types, structure_profile
from .pdf import document_fingerprint, render_pdf

if TYPE_CHECKING:
    from .models import Dossier

__all__ = ["render_summary", "summary_context", "summary_file_name", "summary_of", "summary_title"]

_CATEGORIES = dict(POST_CATEGORIES)
_FUNDING = {"acquired": "acquis", "requested": "sollicité"}


def summary_title(reference: str | None) -> str:
    return f"Récapitulatif du dossier {reference}" if reference else "Récapitulatif du dossier (brouillon)"


def summary_context(
    *,
    reference: str | None,
    call: Mapping[str, Any],
    structure: Mapping[str, Any],
    content: Mapping[str, Any] | None,
    attachments: Iterable[Mapping[str, Any]],
    finance: Mapping[str, Any] | None,
    qpvs: Mapping[str, Mapping[str, Any]],
    version: Mapping[str, Any] | None,
    missing: Mapping[str, list[str]] | None,
    generated_at: datetime,
) -> dict[str, Any]:
    """The context of ``pdf/summary.html``.

    ``version`` (``number``, ``frozen_at``, ``sha256``) is the frozen version printed, or
    None for the working copy of a draft, whose ``missing`` items (``missing_items``) are
    printed too. ``qpvs`` maps a QPV code to its ``name`` and ``communes`` (names)."""
    content = dict(content or {})
    attachments = [dict(a) for a in attachments]
    plain = {
        "reference": reference, "call": dict(call), "structure": dict(structure), "content": content,
        "attachments": attachments, "finance": finance, "qpvs": {k: dict(v) for k, v in qpvs.items()},
        "version": dict(version) if version else None, "missing": missing, "generated_at": generated_at,
    }
    result = stored_result(dict(finance)) if finance else None
    return {
        "reference": reference,
        "title": summary_title(reference),
        "call": {"code": call.get("code") or "", "title": call.get("title") or ""},
        "structure": dict(structure),
        "version": plain["version"],
        "sections": {s.key: s.title for s in SECTIONS},
        "identification": content.get("identification") or {},
        "project": content.get("project") or {},
        "qpvs": [
            {"code": code, "name": (qpvs.get(code) or {}).get("name") or "",
             "communes": ", ".join((qpvs.get(code) or {}).get("communes") or [])}
            for code in (content.get("territories") or {}).get("qpv_codes") or []
        ],
        "public": _public(content.get("public") or {}),
        "resources": _resources(content.get("resources") or {}),
        "indicators": [
            {"label": label, "value": (content.get("indicators") or {}).get(key)} for key, label in INDICATORS
        ] if content.get("indicators") else [],
        "attachments": attachments,
        "declaration": content.get("declaration") or {},
        "plan": _plan(result),
        "missing": [
            {"title": s.title, "items": list(missing.get(s.key) or [])}
            for s in SECTIONS if missing and missing.get(s.key)
        ] if missing is not None else None,
        "generated_at": generated_at,
        "document_hash": document_fingerprint(plain),
    }


def _public(public: Mapping[str, Any]) -> dict[str, Any] | None:
    if not public:
        return None
    return {
        "strands": [
            {"label": STRAND_LABELS[s], "youth": (public.get(s) or {}).get("nb_jeunes"),
             "youth_qpv": (public.get(s) or {}).get("nb_jeunes_qpv")}
            for s in STRANDS
        ],
        "age_min": public.get("age_min"),
        "age_max": public.get("age_max"),
        "cej_qpv_share_current": public.get("cej_qpv_share_current"),
        "cej_qpv_share_target": public.get("cej_qpv_share_target"),
    }


def _resources(resources: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not resources:
        return []
    strands = []
    for strand in STRANDS:
        declared = resources.get(strand) or {}
        strands.append({
            "label": STRAND_LABELS[strand],
            "posts": [
                {**post, "category_title": _CATEGORIES.get(post.get("category") or "staff", "")}
                for post in declared.get("posts") or []
            ],
            "cofinancing": [
                {**line, "status_title": _FUNDING.get(line.get("status") or "", "")}
                for line in declared.get("cofinancing") or []
            ],
            "requested": declared.get("requested"),
        })
    return strands


def _plan(result: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "rows": [
            {"label": FIGURE_LABELS[key], "strong": key in ("base", "fse"),
             "strands": [result.strands[s][key] for s in STRANDS],
             "total": result.totals[key] if key != "self" or result.self_total_shown else None}
            for key in FIGURES
        ],
        "strand_labels": [STRAND_LABELS[s] for s in STRANDS],
        "self_total_shown": result.self_total_shown,
        "findings": [
            {"severity_title": "Bloquant" if f.severity.value == "error" else "Avertissement", "message": f.message}
            for f in result.findings
        ],
        "explanations": [
            {"title": f"Volet {STRAND_LABELS[s].lower()}", "lines": list(result.strand_explanations[s])}
            for s in STRANDS
        ] + [{"title": "Totaux", "lines": list(result.total_explanations)}],
    }


def summary_of(dossier: Dossier, number: int | None = None) -> dict[str, Any] | None:
    """The context of ``dossier``'s récapitulatif, gathered from the database: version
    ``number``, else the working copy of a draft, else the latest frozen version; None when
    there is no version ``number``."""
    version = next((v for v in dossier.versions if v.number == number), None) if number else dossier.latest_version
    if number and version is None:
        return None
    if version is None or (dossier.state is DossierState.draft and not number):
        structure, content, finance = structure_profile(dossier.structure), dossier.content or {}, dossier.finance
        labels = {t["code"]: t["label"] for t in attachment_types(dossier.call)}
        attachments = [
            {"type_label": labels.get(a.type_code, a.type_code), "display_name": a.display_name, "size": a.size,
             "sha256": a.sha256}
            for a in dossier.current_attachments
        ]
        frozen, missing = None, missing_items(dossier)
    else:
        snapshot = version.snapshot
        structure, content, finance = snapshot["structure"], snapshot["content"], snapshot.get("finance")
        attachments = snapshot["attachments"]
        frozen_at = snapshot.get("frozen_at", snapshot["submitted_at"])
        frozen = {"number": version.number, "frozen_at": datetime.fromisoformat(frozen_at), "sha256": version.sha256}
        missing = None
    try:
        kind_title = StructureKind(structure.get("kind")).title
    except ValueError:
        kind_title = ""
    return summary_context(
        reference=dossier.reference, call={"code": dossier.call.code, "title": dossier.call.title},
        structure={**structure, "kind_title": kind_title, "siret_display": format_siret(structure.get("siret"))},
        content=content, attachments=attachments, finance=finance, qpvs=_qpv_names(dossier, content),
        version=frozen, missing=missing, generated_at=utcnow(),
    )


def _qpv_names(dossier: Dossier, content: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    codes = (content.get("territories") or {}).get("qpv_codes") or []
    if not codes or dossier.call.qpv_list_id is None:
        return {}
    rows = db.session.scalars(
        select(Qpv).where(Qpv.qpv_list_id == dossier.call.qpv_list_id, Qpv.code.in_(codes))
        .options(selectinload(Qpv.communes))
    )
    return {q.code: {"name": q.name, "communes": [c.name for c in q.communes]} for q in rows}


def summary_file_name(context: Mapping[str, Any], dossier_id: int) -> str:
    version = context["version"]
    if version:
        return f"recapitulatif-{context['reference']}-v{version['number']}.pdf"
    return f"recapitulatif-brouillon-{dossier_id}.pdf"


def render_summary(context: Mapping[str, Any]) -> bytes:
    """The récapitulatif PDF (needs an application context)."""
    return render_pdf("pdf/summary.html", dict(context), title=context["title"])
