"""The sections of a dossier, what each one still misses, and its financing inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .finance import STRANDS, FinanceInputError, FinanceRules, FinancingResult, Post, StrandInput, compute
from .finance import parse_input
from .forms import dossier as forms

if TYPE_CHECKING:
    from .models import Call, Dossier


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    form: type[forms.SectionForm] | None
    hint: str


SECTIONS: tuple[Section, ...] = (
    Section("identification", "Identification", forms.IdentificationForm,
            "Votre structure, le responsable du projet, l'absence de consortium."),
    Section("project", "Projet et période", forms.ProjectForm, "Intitulé, résumé, dates de l'opération."),
    Section("territories", "Territoires", forms.TerritoriesForm, "Les QPV concernés, dans la liste de l'appel."),
    Section("public", "Public et objectifs", forms.PublicForm, "Jeunes accompagnés par volet, âges, part de jeunes QPV en CEJ."),
    Section("resources", "Moyens par volet", forms.ResourcesForm,
            "Postes financés, autres cofinancements, FSE+ sollicité ; plan de financement calculé."),
    Section("indicators", "Indicateurs", forms.IndicatorsForm, "Vos objectifs chiffrés."),
    Section("attachments", "Pièces jointes", None, "Les pièces demandées par l'appel."),
    Section("declaration", "Attestation sur l'honneur", forms.DeclarationForm, "Signataire et engagement."),
)
SECTIONS_BY_KEY = {s.key: s for s in SECTIONS}


def rules_of(call: Call) -> FinanceRules:
    return FinanceRules(
        fse_rate=call.fse_rate,
        cej_forfait_per_youth=call.cej_forfait_per_youth,
        strand_share={"reperage": call.share_reperage, "sortie_emploi": call.share_sortie_emploi},
        flat_rate_other_costs=call.flat_rate_other_costs,
    )


def strand_inputs(content: dict[str, Any]) -> dict[str, StrandInput] | None:
    """Financing inputs from the public and resources sections; None until both exist."""
    public, resources = content.get("public"), content.get("resources")
    if not public or not resources:
        return None
    inputs: dict[str, StrandInput] = {}
    for strand in STRANDS:
        declared = resources.get(strand) or {}
        posts = tuple(
            Post(
                label=p["label"],
                annual_cost=Decimal(p["annual_cost"]),
                fte=Decimal(p["fte"]),
                months=int(p["months"]),
                category=p.get("category", "staff"),
            )
            for p in declared.get("posts", [])
        )
        other = sum((Decimal(c["amount"]) for c in declared.get("cofinancing", [])), Decimal("0.00"))
        requested = declared.get("requested")
        inputs[strand] = StrandInput(
            nb_jeunes_qpv=int((public.get(strand) or {}).get("nb_jeunes_qpv") or 0),
            posts=posts,
            other_cofinancing=other,
            requested=Decimal(requested) if requested not in (None, "") else None,
        )
    return inputs


def compute_financing(call: Call, content: dict[str, Any]) -> FinancingResult | None:
    try:
        inputs = strand_inputs(content)
    except FinanceInputError:
        return None
    if inputs is None:
        return None
    return compute(rules_of(call), inputs)


def stored_result(finance: dict[str, Any] | None) -> FinancingResult | None:
    """Rebuild the result stored with a dossier from the inputs and parameters it kept.

    A page asks for the same plan more than once (the officer's dossier page for its table
    and for the automatic admissibility verdicts, the applicant's for its table and for what
    is missing): the computation is pure, so it is done once per distinct input."""
    if not finance:
        return None
    return _computed(json.dumps(finance["input"], sort_keys=True, separators=(",", ":")))


@lru_cache(maxsize=512)
def _computed(canonical_input: str) -> FinancingResult:
    return compute(*parse_input(json.loads(canonical_input)))


def missing_items(dossier: Dossier) -> dict[str, list[str]]:
    """For each section, what still prevents submission (empty list: complete)."""
    content = dossier.content or {}
    missing: dict[str, list[str]] = {s.key: [] for s in SECTIONS}

    structure = dossier.structure
    absent = [label for attr, label in forms.STRUCTURE_REQUIRED.items() if not getattr(structure, attr)]
    if absent:
        missing["identification"].append("Profil de la structure incomplet : " + ", ".join(absent) + ".")
    identification = content.get("identification") or {}
    if not identification:
        missing["identification"].append("Section non remplie.")
    elif identification.get("consortium") == "yes":
        missing["identification"].append("Consortium déclaré : l'appel exige une structure unique.")

    for key in ("project", "indicators", "public"):
        if not content.get(key):
            missing[key].append("Section non remplie.")
    if not (content.get("territories") or {}).get("qpv_codes"):
        missing["territories"].append("Aucun QPV choisi.")

    public = content.get("public") or {}
    if public and not any((public.get(s) or {}).get("nb_jeunes_qpv") for s in STRANDS):
        missing["public"].append("Aucun jeune résidant en QPV sur les deux volets.")

    resources = content.get("resources") or {}
    if not resources:
        missing["resources"].append("Section non remplie.")
    elif not any((resources.get(s) or {}).get("posts") for s in STRANDS):
        missing["resources"].append("Aucun poste financé.")
    result = stored_result(dossier.finance)
    if result is not None:
        for finding in result.errors:
            missing["resources"].append(finding.message)

    present = {a.type_code for a in dossier.usable_attachments}
    for item in dossier.call.required_attachments:
        if item["code"] not in present:
            missing["attachments"].append(f"Pièce manquante : {item['label']}.")

    declaration = content.get("declaration") or {}
    if not declaration.get("signatory_name") or not declaration.get("signatory_quality"):
        missing["declaration"].append("Signataire à indiquer.")
    if not declaration.get("sworn"):
        missing["declaration"].append("Attestation sur l'honneur non cochée.")
    return missing


# What the queue and its exports show of a submitted version --------------------------------


def requested_total(finance: dict[str, Any] | None) -> Decimal | None:
    """FSE+ requested by a stored plan (``to_snapshot()``, or :func:`submitted_figures`): per
    strand the amount asked, or the computed FSE+ when none was asked (as
    ``Dossier.fse_requested_total``)."""
    inputs = ((finance or {}).get("input") or {}).get("strands") or {}
    strands = ((finance or {}).get("result") or {}).get("strands") or {}
    if not strands:
        return None
    total = Decimal("0.00")
    for strand in STRANDS:
        asked = (inputs.get(strand) or {}).get("requested")
        total += Decimal(asked if asked not in (None, "") else strands[strand]["fse"])
    return total


def submitted_figures(finance: dict[str, Any] | None) -> dict[str, Any] | None:
    """The figures of a stored plan without its inputs' details nor its explanation lines:
    the amounts requested per strand and the computed figures, per strand and in total
    (about 1 KB where the plan with its explanations is 6 KB), in the plan's own shape."""
    if not finance or not finance.get("result"):
        return None
    inputs = (finance.get("input") or {}).get("strands") or {}
    result = finance["result"]
    return {
        "input": {"strands": {s: {"requested": (inputs.get(s) or {}).get("requested")} for s in STRANDS}},
        "result": {"strands": {s: dict(result["strands"][s]) for s in STRANDS}, "totals": dict(result["totals"])},
    }


def submitted_title(snapshot: dict[str, Any] | None) -> str:
    """The project title of a frozen version."""
    return str((((snapshot or {}).get("content") or {}).get("project") or {}).get("title") or "")[:300]


def submitted_summary(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the exports show of a frozen version besides its figures (a few hundred bytes):
    its QPV codes, its young people per strand (of whom living in a QPV) and the other
    co-financing its plan counted per strand (exact decimal strings)."""
    if not snapshot:
        return None
    content = snapshot.get("content") or {}
    public = content.get("public") or {}
    inputs = (((snapshot.get("finance") or {}).get("input") or {}).get("strands")) or {}
    return {
        "qpv_codes": list((content.get("territories") or {}).get("qpv_codes") or []),
        "public": {
            s: {"nb_jeunes": (public.get(s) or {}).get("nb_jeunes"),
                "nb_jeunes_qpv": (public.get(s) or {}).get("nb_jeunes_qpv")}
            for s in STRANDS
        },
        "other_cofinancing": {s: (inputs.get(s) or {}).get("other_cofinancing") for s in STRANDS},
    }
