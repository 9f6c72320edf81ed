"""Contexts and rendering of the dossier documents of docs/documents.md: the *fiche de synthèse*
of a dossier and the *lettre de notification* sent to the applicant.

The ``*_context`` builders are pure: they take plain data (dicts, ``Decimal``, ``datetime``,
the stored JSON of a dossier and of its financing computations), never ORM objects, and
return the plain context the templates print. The web views and the committee pack gather
that data from the database; the tests call the builders directly.

Each context carries ``document_hash``, the :func:`grants.pdf.document_fingerprint` of the
data it was built from (``generated_at`` included): two documents built from the same
data carry the same hash, and any change of the data changes it.

A fiche's printable data lives under the ``"fiche"`` key: ``templates/pdf/_fiche_body.html``
only reads the variable ``fiche``, so a committee pack can include the body once per
dossier (``{% for fiche in fiches %}{% include "pdf/_fiche_body.html" %}{% endfor %}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .dossier_sections import stored_result
from .finance import (
    FIGURE_LABELS,
    STRAND_LABELS,
    STRANDS,
    FinancingResult,
    format_applied_rate,
    format_eur,
    format_rate,
)
from .forms.dossier import INDICATORS
from .pdf import LAYOUT_VERSION, document_fingerprint, render_pdf

__all__ = [
    "CRITERION_VALUE_TITLES",
    "LETTER_KINDS",
    "SIGNATURE_LINES",
    "fiche_context",
    "fiche_title",
    "format_siret",
    "letter_context",
    "letter_title",
    "render_fiche",
    "render_letter",
]

#: The notification letters: selection (with amount), rejection, inadmissibility (with motive).
LETTER_KINDS: Mapping[str, str] = {
    "selected": "notification de sélection",
    "rejected": "notification de rejet",
    "inadmissible": "notification d'irrecevabilité",
}

#: The signature of every letter (delegated signature of the regional director, no name).
SIGNATURE_LINES: tuple[str, ...] = (
    "Pour le Préfet de région et par délégation,",
    "la directrice régionale de l'économie, de l'emploi, du travail et des solidarités",
)

#: How an admissibility criterion's answer reads on the fiche.
CRITERION_VALUE_TITLES: Mapping[str | None, str] = {
    "pass": "Conforme",
    "fail": "Non conforme",
    None: "Non évalué",
}

# Rows of the financing table of a strand, in the order a financing plan reads:
# what the State brings (base socle), the reinforced action and its cost, the base, then
# the resources covering the reinforced action. ``"youth"`` and ``"other"`` are inputs.
_TABLE_ROWS: tuple[str, ...] = (
    "youth", "socle", "staff", "flat", "renfort", "base", "fse_max", "other", "fse", "self",
)
_STRONG_ROWS = frozenset({"base", "fse"})


def format_siret(siret: object) -> str:
    """``13002526500013`` → ``130 025 265 00013`` (SIREN by threes, then the NIC)."""
    text = "" if siret is None else str(siret).strip()
    if len(text) == 14 and text.isdigit():
        return f"{text[:3]} {text[3:6]} {text[6:9]} {text[9:]}"
    return text or "—"


def fiche_title(reference: str) -> str:
    return f"Fiche de synthèse {reference}"


def letter_title(reference: str) -> str:
    return f"Notification {reference}"


# --- fiche de synthèse --------------------------------------------------------------------


def fiche_context(
    *,
    reference: str,
    call: Mapping[str, Any],
    structure: Mapping[str, Any],
    snapshot_content: Mapping[str, Any] | None,
    qpvs: Iterable[Mapping[str, Any]],
    requested_finance: Mapping[str, Any] | None,
    retained_finance: Mapping[str, Any] | None,
    admissibility: Mapping[str, Any] | None,
    opinion: Mapping[str, Any] | None,
    generated_at: datetime,
) -> dict[str, Any]:
    """The context of ``pdf/fiche.html``: ``{"fiche": {...}, "reference", "generated_at",
    "document_hash", "source_hash"}``.

    ``snapshot_content`` is the dossier content JSON of the submitted version;
    ``requested_finance`` the financing computation stored with it and
    ``retained_finance`` the officer's (both ``FinancingResult.to_snapshot()`` dicts,
    rebuilt here with :func:`grants.dossier_sections.stored_result`). ``qpvs`` describes
    the QPV of the reference list (``code``, ``name``, ``communes`` as names or as dicts
    with a ``name``); a code of the content missing from it is printed as is.
    """
    content = dict(snapshot_content or {})
    qpvs = [dict(q) for q in qpvs]
    plain = {
        "reference": reference,
        "call": dict(call),
        "structure": dict(structure),
        "snapshot_content": content,
        "qpvs": qpvs,
        "requested_finance": requested_finance,
        "retained_finance": retained_finance,
        "admissibility": admissibility,
        "opinion": opinion,
        "generated_at": generated_at,
        # A stored fiche is laid out again when the documents' common layout changes.
        "layout": LAYOUT_VERSION,
    }
    requested = stored_result(dict(requested_finance)) if requested_finance else None
    retained = stored_result(dict(retained_finance)) if retained_finance else None

    identification = content.get("identification") or {}
    project = content.get("project") or {}
    fiche = {
        "reference": reference,
        "anchor": "fiche-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in reference),
        "call": {"code": call.get("code") or "", "title": call.get("title") or ""},
        "structure": {
            "name": structure.get("name") or "—",
            "siret": format_siret(structure.get("siret")),
            "kind_title": structure.get("kind_title") or "—",
            "commune": _commune(structure.get("commune_name"), structure.get("departement")),
            "legal_rep": ", ".join(
                part for part in (structure.get("legal_rep_name"), structure.get("legal_rep_title")) if part
            ) or "—",
            "contact": _contact(identification),
        },
        "project": {
            "title": project.get("title") or "—",
            "summary": (project.get("summary") or "").strip(),
            "start_date": project.get("start_date") or None,
            "end_date": project.get("end_date") or None,
            "months": _months(project.get("start_date"), project.get("end_date")),
        },
        "qpvs": _qpv_lines(content, qpvs),
        "public": _public(content),
        "indicators": _indicators(content),
        "finance": _finance(requested, retained),
        "admissibility": _admissibility(admissibility),
        "opinion": _opinion(opinion),
    }
    return {
        "fiche": fiche,
        "reference": reference,
        "generated_at": generated_at,
        "document_hash": document_fingerprint(plain),
        # What the fiche says, whenever it is printed: a rendered fiche whose source hash
        # is unchanged needs no new rendering.
        "source_hash": document_fingerprint({k: v for k, v in plain.items() if k != "generated_at"}),
    }


def _commune(name: str | None, departement: str | None) -> str:
    if name and departement:
        return f"{name} ({departement})"
    return name or "—"


def _contact(identification: Mapping[str, Any]) -> dict[str, str]:
    """The project's contact person: ``name`` and ``details`` (e-mail, telephone)."""
    details = [d for d in (identification.get("contact_email"), identification.get("contact_phone")) if d]
    return {"name": identification.get("contact_name") or "—", "details": ", ".join(details)}


def _months(start: str | None, end: str | None) -> int | None:
    """The operation's length in months when it is a whole number of months
    (``2027-01-01`` to ``2028-12-31``: 24), else ``None``."""
    # Any stored text is survived (a date typed before the bounds existed, 9999-12-31 whose
    # next day does not exist): no date can keep a fiche, the pack or a letter from printing.
    try:
        first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
        following = date.fromordinal(last.toordinal() + 1)
    except (TypeError, ValueError, OverflowError):
        return None
    months = (following.year - first.year) * 12 + following.month - first.month
    if last < first or following.day != first.day or months < 1:
        return None
    return months


def _qpv_lines(content: Mapping[str, Any], qpvs: list[dict[str, Any]]) -> list[dict[str, str]]:
    known = {q.get("code"): q for q in qpvs}
    codes = list((content.get("territories") or {}).get("qpv_codes") or [])
    if not codes:  # no content codes: print the QPV given
        codes = [q.get("code") for q in qpvs if q.get("code")]
    lines = []
    for code in codes:
        qpv = known.get(code) or {}
        communes = [c.get("name", "") if isinstance(c, Mapping) else str(c) for c in qpv.get("communes") or []]
        lines.append({"code": code, "name": qpv.get("name") or "", "communes": ", ".join(c for c in communes if c)})
    return lines


def _public(content: Mapping[str, Any]) -> dict[str, Any] | None:
    public = content.get("public") or {}
    if not public:
        return None
    strands = []
    for strand in STRANDS:
        figures = public.get(strand) or {}
        strands.append(
            {"label": STRAND_LABELS[strand], "youth": figures.get("nb_jeunes"),
             "youth_qpv": figures.get("nb_jeunes_qpv")}
        )
    return {
        "strands": strands,
        "age_min": public.get("age_min"),
        "age_max": public.get("age_max"),
        "cej_qpv_share_current": public.get("cej_qpv_share_current"),
        "cej_qpv_share_target": public.get("cej_qpv_share_target"),
    }


def _indicators(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    indicators = content.get("indicators") or {}
    return [{"label": label, "value": indicators.get(key)} for key, label in INDICATORS if key in indicators]


def _figure_labels(result: FinancingResult) -> dict[str, str]:
    rules = result.rules
    return {
        "youth": "Jeunes résidant en QPV",
        "socle": "Base socle (État, CEJ)",
        "staff": FIGURE_LABELS["staff"],
        "flat": f"{FIGURE_LABELS['flat']} ({format_rate(rules.flat_rate_other_costs)})",
        "renfort": "Renforcé (personnel + forfait)",
        "base": FIGURE_LABELS["base"],
        "fse_max": f"{FIGURE_LABELS['fse_max']} ({format_rate(rules.fse_rate)})",
        "other": "Autres cofinancements",
        "fse": FIGURE_LABELS["fse"],
        "self": FIGURE_LABELS["self"],
    }


def _strand_value(result: FinancingResult | None, strand: str | None, key: str) -> Decimal | int | None:
    if result is None:
        return None
    if key == "youth":
        if strand is None:
            return sum(result.inputs[s].nb_jeunes_qpv for s in STRANDS)
        return result.inputs[strand].nb_jeunes_qpv
    if key == "other":
        if strand is None:
            return sum((result.inputs[s].other_cofinancing for s in STRANDS), Decimal("0.00"))
        return result.inputs[strand].other_cofinancing
    figures = result.totals if strand is None else result.strands[strand]
    return figures[key]


def _table(
    requested: FinancingResult | None, retained: FinancingResult | None, strand: str | None,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    rows = []
    for key in _TABLE_ROWS:
        before = _strand_value(requested, strand, key)
        after = _strand_value(retained, strand, key)
        rows.append(
            {
                "key": key,
                "label": labels[key],
                "is_count": key == "youth",
                "strong": key in _STRONG_ROWS,
                "requested": before,
                "retained": after,
                "difference": after - before if before is not None and after is not None else None,
            }
        )
    if strand is None:
        return {"key": "total", "title": "Total des deux volets", "rows": rows}
    return {"key": strand, "title": f"Volet {STRAND_LABELS[strand].lower()}", "rows": rows}


def _finance(requested: FinancingResult | None, retained: FinancingResult | None) -> dict[str, Any] | None:
    explained = retained or requested
    if explained is None:
        return None
    rules = explained.rules
    labels = _figure_labels(explained)
    tables = [_table(requested, retained, strand, labels) for strand in STRANDS]
    tables.append(_table(requested, retained, None, labels))
    findings = [
        {
            "severity": finding.severity.value,
            "severity_title": "Bloquant" if finding.severity.value == "error" else "Avertissement",
            "message": finding.message,
        }
        for finding in explained.findings
    ]
    return {
        "has_requested": requested is not None,
        "has_retained": retained is not None,
        "fse_requested": requested.totals["fse"] if requested else None,
        "fse_retained": retained.totals["fse"] if retained else None,
        "base_retained": retained.totals["base"] if retained else None,
        "base_requested": requested.totals["base"] if requested else None,
        "tables": tables,
        "parameters": (
            f"taux d'intervention FSE+ {format_rate(rules.fse_rate)} ; montant par jeune (CEJ) "
            f"{format_eur(rules.cej_forfait_per_youth)} ; part de la base socle : "
            + ", ".join(
                f"{STRAND_LABELS[s].lower()} {format_rate(rules.strand_share[s])}" for s in STRANDS
            )
            + f" ; forfait coûts restants {format_rate(rules.flat_rate_other_costs)} des frais "
            "de personnel directs"
        ),
        "explained": "retained" if retained is not None else "requested",
        "explanations": [
            {"title": f"Volet {STRAND_LABELS[s].lower()}", "lines": list(explained.strand_explanations[s])}
            for s in STRANDS
        ]
        + [{"title": "Totaux", "lines": list(explained.total_explanations)}],
        "findings": findings,
    }


def _admissibility(admissibility: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not admissibility:
        return None
    criteria = [
        {
            "label": criterion.get("label") or "—",
            "value": criterion.get("value"),
            "value_title": CRITERION_VALUE_TITLES.get(criterion.get("value"), "Non évalué"),
            "comment": (criterion.get("comment") or "").strip(),
        }
        for criterion in admissibility.get("criteria") or []
    ]
    return {
        "outcome_title": admissibility.get("outcome_title") or "Non décidée",
        "decided_at": admissibility.get("decided_at"),
        "motive": (admissibility.get("motive") or "").strip(),
        "criteria": criteria,
    }


def _opinion(opinion: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not opinion:
        return None
    return {
        "title": opinion.get("title") or "—",
        "text": (opinion.get("text") or "").strip(),
        "instructed_at": opinion.get("instructed_at"),
        "instructed_by": opinion.get("instructed_by") or "",
    }


def render_fiche(context: Mapping[str, Any]) -> bytes:
    """The fiche de synthèse PDF (needs an application context)."""
    return render_pdf("pdf/fiche.html", dict(context), title=fiche_title(context["reference"]))


# --- lettre de notification ------------------------------------------------------------------


def letter_context(
    *,
    kind: str,
    reference: str,
    call: Mapping[str, Any],
    structure: Mapping[str, Any],
    project_title: str | None,
    amount_granted: Decimal | None,
    fse_rate: Decimal | None,
    motive: str | None,
    session: Mapping[str, Any] | None,
    decided_at: datetime | date | None,
    generated_at: datetime,
    period: Mapping[str, Any] | None = None,
    strands: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The context of ``pdf/letter.html``, addressed to the legal representative.

    ``kind``: ``selected`` (``amount_granted`` required: the FSE+ granted in total, and
    ``strands``: per strand, ``{"strand", "granted", "base"}``, the FSE+ granted and the
    retained base subventionnable, which add up to ``amount_granted``; the letter states the
    rate that results, granted / base, and ``fse_rate``, the call's rate, as its ceiling),
    ``rejected`` or ``inadmissible`` (``motive`` required). ``session`` (``date``, ``chair``)
    is the committee meeting that decided, absent for an inadmissibility, which the service
    decides. ``period`` (``start_date``, ``end_date``: ISO dates as in a dossier's content,
    optional) is the operation's period quoted in the selection's conditions.
    """
    if kind not in LETTER_KINDS:
        raise ValueError(f"unknown letter kind {kind!r} (expected one of {', '.join(LETTER_KINDS)})")
    motive = (motive or "").strip()
    if kind == "selected" and amount_granted is None:
        raise ValueError("a selection letter needs the amount granted")
    if kind == "selected" and not strands:
        raise ValueError("a selection letter needs the amounts granted per strand")
    if strands and sum((s["granted"] for s in strands), Decimal("0.00")) != amount_granted:
        raise ValueError("the amounts granted per strand must add up to the amount granted")
    if kind != "selected" and not motive:
        raise ValueError(f"a {kind} letter needs a motive")
    plain = {
        "kind": kind,
        "reference": reference,
        "call": dict(call),
        "structure": dict(structure),
        "project_title": project_title,
        "amount_granted": amount_granted,
        "fse_rate": fse_rate,
        "motive": motive,
        "session": dict(session) if session else None,
        "decided_at": decided_at,
        "period": dict(period) if period else None,
        "strands": [dict(strand) for strand in strands] if strands else None,
        "generated_at": generated_at,
    }
    rep_name = (structure.get("legal_rep_name") or "").strip()
    rep_title = (structure.get("legal_rep_title") or "").strip()
    locality = " ".join(p for p in (structure.get("postal_code"), structure.get("commune_name")) if p)
    return plain | {
        "call": {"code": call.get("code") or "", "title": call.get("title") or ""},
        "project_title": project_title or "",
        "subject": f"{LETTER_KINDS[kind]} — dossier {reference}",
        "recipient_lines": [
            line
            for line in (rep_name, rep_title, structure.get("name"), structure.get("address"), locality)
            if line
        ],
        "legal_rep_name": rep_name,
        "structure_name": structure.get("name") or "",
        "signature_lines": list(SIGNATURE_LINES),
        "grant_rows": _grant_rows(strands) if strands else [],
        "document_hash": document_fingerprint(plain),
    }


def _grant_rows(strands: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The selection letter's table: per strand and in total, the FSE+ granted, the retained
    base subventionnable and the rate that results."""
    rows = [
        {"label": STRAND_LABELS[s["strand"]], "granted": s["granted"], "base": s["base"],
         "rate": format_applied_rate(s["granted"], s["base"]), "total": False}
        for s in strands
    ]
    granted = sum((s["granted"] for s in strands), Decimal("0.00"))
    base = sum((s["base"] for s in strands), Decimal("0.00"))
    return rows + [{"label": "Total", "granted": granted, "base": base,
                    "rate": format_applied_rate(granted, base), "total": True}]


def render_letter(context: Mapping[str, Any]) -> bytes:
    """The notification letter PDF (needs an application context)."""
    return render_pdf("pdf/letter.html", dict(context), title=letter_title(context["reference"]))
