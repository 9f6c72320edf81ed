"""The *récapitulatif* of a dossier: the whole dossier in one PDF, for the applicant's last
read before submission (the working copy) and for their records after (a frozen version).

As for the other documents (``grants/documents.py``), the context is built from plain
data (the content JSON, the structure profile, the pièces, the stored plan), never from
ORM objects, and carries the fingerprint of that data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .dossier_sections import SECTIONS, stored_result
from .finance import FIGURE_LABELS, FIGURES, STRAND_LABELS, STRANDS
from .forms.dossier import INDICATORS, POST_CATEGORIES
from .pdf import document_fingerprint, render_pdf

__all__ = ["summary_context", "summary_title", "render_summary"]

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


def render_summary(context: Mapping[str, Any]) -> bytes:
    """The récapitulatif PDF (needs an application context)."""
    return render_pdf("pdf/summary.html", dict(context), title=context["title"])
