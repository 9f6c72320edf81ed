"""The sections of a dossier, what each one still misses, and its financing inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
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
        # A line saved incomplete is left out of the plan until it is complete
        # (missing_items names it): the plan is computed as soon as it can be.
        posts = tuple(
            Post(
                label=p["label"],
                annual_cost=Decimal(p["annual_cost"]),
                fte=Decimal(p["fte"]),
                months=int(p["months"]),
                category=p.get("category", "staff"),
            )
            for p in declared.get("posts", [])
            if post_is_complete(p)
        )
        other = sum(
            (Decimal(c["amount"]) for c in declared.get("cofinancing", []) if not _blank(c.get("amount"))),
            Decimal("0.00"),
        )
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


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def post_is_complete(post: dict[str, Any]) -> bool:
    return not any(_blank(post.get(key)) for key in ("label", "annual_cost", "fte", "months"))


def _quoted(labels: list[str]) -> str:
    return ", ".join(f"« {label} »" for label in labels)


def blank_needed(form_class: type[forms.Form], content: dict[str, Any], within: str = "") -> list[str]:
    """Labels of the ``Needed()`` fields of ``form_class`` that ``content`` leaves empty;
    a nested form's fields are named with its label (``Volet repérage — Jeunes accompagnés``)."""
    labels: list[str] = []
    for name, label, sub in forms.needed_fields(form_class):
        value = content.get(name)
        if sub is not None:
            labels += blank_needed(sub, value if isinstance(value, dict) else {}, f"{label} — ")
        elif _blank(value):
            labels.append(within + label)
    return labels


def _to_fill(labels: list[str]) -> list[str]:
    return [f"À renseigner : {_quoted(labels)}."] if labels else []


def _rows_to_complete(resources: dict[str, Any]) -> list[str]:
    """One line per post or co-financing row saved incomplete."""
    items = []
    for strand in STRANDS:
        declared = resources.get(strand) or {}
        title = STRAND_TITLES[strand]
        for number, post in enumerate(declared.get("posts") or [], start=1):
            blank = blank_needed(forms.DraftPostForm, post)
            if blank:
                name = f" « {post['label']} »" if not _blank(post.get("label")) else ""
                items.append(f"{title}, poste {number}{name} : à renseigner : {_quoted(blank)}.")
        for number, line in enumerate(declared.get("cofinancing") or [], start=1):
            blank = blank_needed(forms.CofinancingForm, line)
            if blank:
                items.append(f"{title}, cofinancement {number} : à renseigner : {_quoted(blank)}.")
    return items


STRAND_TITLES = {"reperage": "Volet repérage", "sortie_emploi": "Volet sortie vers l'emploi"}


def missing_items(dossier: Dossier) -> dict[str, list[str]]:
    """For each section, what still prevents submission (empty list: complete).

    Sections save whatever is typed; what submission needs is judged here, on the stored
    content: the fields marked ``Needed()`` in the section forms, and the rules of the
    call (no consortium, at least one QPV and one post, a period of 12 to 36 months, the
    financing plan without error, the required pièces, the sworn statement)."""
    content = dossier.content or {}
    missing: dict[str, list[str]] = {s.key: [] for s in SECTIONS}

    structure = dossier.structure
    absent = [label for attr, label in forms.STRUCTURE_REQUIRED.items() if not getattr(structure, attr)]
    if absent:
        missing["identification"].append("Profil de la structure incomplet : " + ", ".join(absent) + ".")
    for key in ("identification", "project", "public", "indicators"):
        section = content.get(key)
        if not section:
            missing[key].append("Section non remplie.")
        else:
            missing[key] += _to_fill(blank_needed(SECTIONS_BY_KEY[key].form, section))  # type: ignore[arg-type]

    if (content.get("identification") or {}).get("consortium") == "yes":
        missing["identification"].append(forms.CONSORTIUM_REFUSED)

    project = content.get("project") or {}
    try:
        start, end = (date.fromisoformat(project[k]) if project.get(k) else None for k in ("start_date", "end_date"))
    except (TypeError, ValueError):
        start = end = None
    period = forms.ProjectForm.period_problem(start, end)
    if period:
        missing["project"].append(period)

    if not (content.get("territories") or {}).get("qpv_codes"):
        missing["territories"].append("Aucun QPV choisi.")

    public = content.get("public") or {}
    counted = [(public.get(s) or {}).get("nb_jeunes_qpv") for s in STRANDS]
    if public and all(isinstance(n, int) for n in counted) and not any(counted):
        missing["public"].append("Aucun jeune résidant en QPV sur les deux volets.")

    resources = content.get("resources") or {}
    if not resources:
        missing["resources"].append("Section non remplie.")
    else:
        if not any((resources.get(s) or {}).get("posts") for s in STRANDS):
            missing["resources"].append("Aucun poste financé.")
        missing["resources"] += _rows_to_complete(resources)
    result = stored_result(dossier.finance)
    if result is not None:
        for finding in result.errors:
            missing["resources"].append(finding.message)

    present = {a.type_code for a in dossier.usable_attachments}
    for item in dossier.call.required_attachments:
        if item["code"] not in present:
            missing["attachments"].append(f"Pièce manquante : {item['label']}.")

    declaration = content.get("declaration") or {}
    if _blank(declaration.get("signatory_name")) or _blank(declaration.get("signatory_quality")):
        missing["declaration"].append("Signataire à indiquer.")
    if not declaration.get("sworn"):
        missing["declaration"].append("Attestation sur l'honneur non cochée.")
    return missing


def plan_waits_for(content: dict[str, Any]) -> list[str]:
    """Titles of the sections the financing plan still waits for (empty: it can be computed)."""
    return [SECTIONS_BY_KEY[key].title for key in ("public", "resources") if not content.get(key)]


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
