"""What changed between two frozen versions of a dossier, field by field, in French.

Pure functions over two snapshots (``DossierVersion.snapshot``): no Flask, no database.
Each section of the dossier gives the fields whose value differs, with the old and the
new value as they are shown to an officer (``42 000,00 €``, ``15/01/2027``, ``Oui``);
posts and co-financing lines are matched by their label, pièces by their type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..dossier_sections import SECTIONS
from ..finance import FIGURE_LABELS, FIGURES, STRAND_LABELS, STRANDS
from ..formatting import decimal_text, file_size, iso_date, money_text, number
from ..forms.dossier import FUNDING_STATUS, INDICATORS, POST_CATEGORIES
from ..models import STRUCTURE_KIND_TITLES

ABSENT = "—"

#: What a change is: a value that changed, or a line (post, pièce…) added, removed, replaced.
CHANGED, ADDED, REMOVED, REPLACED = "changed", "added", "removed", "replaced"
KIND_TITLES = {CHANGED: "modifié", ADDED: "ajouté", REMOVED: "retiré", REPLACED: "remplacé"}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str
    kind: str = CHANGED
    #: The frozen pièces on each side (``snapshot["attachments"]`` items), for their links.
    before_attachment: dict[str, Any] | None = None
    after_attachment: dict[str, Any] | None = None

    @property
    def kind_title(self) -> str:
        return KIND_TITLES[self.kind]


@dataclass(frozen=True)
class SectionChanges:
    key: str
    title: str
    changes: list[Change] = field(default_factory=list)


# Value formats ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or value == "":
        return ABSENT
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value) or ABSENT
    return str(value)


def _money(value: Any) -> str:
    return money_text(value) if value not in (None, "") else ABSENT


def _count(value: Any) -> str:
    return number(int(value)) if value not in (None, "") else ABSENT


def _percent(value: Any) -> str:
    return f"{decimal_text(value)} %" if value not in (None, "") else ABSENT


def _years(value: Any) -> str:
    return f"{value} ans" if value not in (None, "") else ABSENT


def _choice(choices: dict[str, str]) -> Callable[[Any], str]:
    return lambda value: choices.get(value, _text(value))


def _requested(value: Any) -> str:
    return money_text(value) if value not in (None, "") else "le maximum calculé"


def _sworn(value: Any) -> str:
    return "signée" if value else "non signée"


Field = tuple[tuple[str, ...], str, Callable[[Any], str]]

_STRAND_PUBLIC: list[Field] = [
    field_
    for strand in STRANDS
    for field_ in (
        ((strand, "nb_jeunes"), f"{STRAND_LABELS[strand]} — jeunes accompagnés", _count),
        ((strand, "nb_jeunes_qpv"), f"{STRAND_LABELS[strand]} — dont jeunes résidant en QPV", _count),
    )
]

#: The plain fields of each section: (path in the section's JSON, French label, format).
SECTION_FIELDS: dict[str, list[Field]] = {
    "identification": [
        (("contact_name",), "Responsable du projet", _text),
        (("contact_email",), "Courriel du responsable", _text),
        (("contact_phone",), "Téléphone du responsable", _text),
        (("consortium",), "Consortium", _choice({"no": "Non, structure unique", "yes": "Oui, avec d'autres structures"})),
    ],
    "project": [
        (("title",), "Intitulé du projet", _text),
        (("summary",), "Résumé du projet", _text),
        (("start_date",), "Début de l'opération", iso_date),
        (("end_date",), "Fin de l'opération", iso_date),
    ],
    "public": [
        *_STRAND_PUBLIC,
        (("age_min",), "Âge minimum", _years),
        (("age_max",), "Âge maximum", _years),
        (("cej_qpv_share_current",), "Part des jeunes QPV dans les entrées en CEJ aujourd'hui", _percent),
        (("cej_qpv_share_target",), "Part des jeunes QPV visée", _percent),
    ],
    "resources": [((strand, "requested"), f"{STRAND_LABELS[strand]} — FSE+ sollicité", _requested)
                  for strand in STRANDS],
    "indicators": [((key,), label, _count) for key, label in INDICATORS],
    "declaration": [
        (("signatory_name",), "Signataire", _text),
        (("signatory_quality",), "Qualité du signataire", _text),
        (("sworn",), "Attestation sur l'honneur", _sworn),
    ],
}

STRUCTURE_FIELDS: list[Field] = [
    (("name",), "Nom de la structure", _text),
    (("siret",), "SIRET", _text),
    (("kind",), "Type de structure", _choice({k.value: title for k, title in STRUCTURE_KIND_TITLES.items()})),
    (("legal_form",), "Forme juridique", _text),
    (("address",), "Adresse", _text),
    (("postal_code",), "Code postal", _text),
    (("commune_name",), "Commune", _text),
    (("commune_insee",), "Code INSEE de la commune", _text),
    (("departement",), "Département", _text),
    (("legal_rep_name",), "Représentant légal", _text),
    (("legal_rep_title",), "Qualité du représentant légal", _text),
    (("contact_name",), "Personne à contacter", _text),
    (("contact_email",), "Courriel de contact", _text),
    (("contact_phone",), "Téléphone", _text),
]

_CATEGORIES = dict(POST_CATEGORIES)
_FUNDING = {key: label.lower() for key, label in FUNDING_STATUS}


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _compare_fields(before: dict[str, Any], after: dict[str, Any], fields: Iterable[Field]) -> list[Change]:
    changes = []
    for path, label, show in fields:
        old, new = _get(before, path), _get(after, path)
        if old != new:
            changes.append(Change(label, show(old), show(new)))
    return changes


def _leftovers(before: dict[str, Any], after: dict[str, Any], known: set[str]) -> list[Change]:
    """Keys no field describes (a later form's new field): shown raw rather than missed."""
    keys = sorted((set(before) | set(after)) - known)
    return [Change(key, _text(before.get(key)), _text(after.get(key))) for key in keys
            if before.get(key) != after.get(key)]


# Lines: posts and co-financing ---------------------------------------------------------------


def _describe_post(post: dict[str, Any]) -> str:
    text = (f"{post.get('label') or 'Poste sans intitulé'} : {_money(post.get('annual_cost'))} par an, "
            f"{decimal_text(post.get('fte'))} ETP, {post.get('months') or ABSENT} mois")
    if post.get("category") not in (None, "staff"):
        text += f" ({_CATEGORIES.get(post['category'], post['category'])})"
    return text


def _describe_funding(line: dict[str, Any]) -> str:
    status = _FUNDING.get(line.get("status"), _text(line.get("status")))
    return f"{line.get('funder') or 'Financeur non précisé'} : {_money(line.get('amount'))} ({status})"


_POST_FIELDS: list[Field] = [
    (("annual_cost",), "coût annuel chargé", _money),
    (("fte",), "quotité (ETP)", decimal_text),
    (("months",), "mois", _text),
    (("category",), "nature de la dépense", _choice(_CATEGORIES)),
]
_FUNDING_FIELDS: list[Field] = [
    (("amount",), "montant", _money),
    (("status",), "statut", _choice(_FUNDING)),
]


def _compare_lines(
    before: list[dict[str, Any]], after: list[dict[str, Any]], *, key: str, what: str,
    describe: Callable[[dict[str, Any]], str], fields: list[Field],
) -> list[Change]:
    """Lines matched by ``key`` (in order when a key repeats): each matched pair gives its
    changed attributes, the others are added or removed lines."""
    unmatched = list(before)
    changes: list[Change] = []
    added = []
    for line in after:
        match = next((old for old in unmatched if old.get(key) == line.get(key)), None)
        if match is None:
            added.append(line)
            continue
        unmatched.remove(match)
        name = line.get(key) or ABSENT
        changes += [
            Change(f"{what} « {name} » — {change.label}", change.before, change.after)
            for change in _compare_fields(match, line, fields)
        ]
    changes += [Change(f"{what} retiré", describe(line), ABSENT, REMOVED) for line in unmatched]
    changes += [Change(f"{what} ajouté", ABSENT, describe(line), ADDED) for line in added]
    return changes


def _compare_resources(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    changes = []
    for strand in STRANDS:
        old, new = before.get(strand) or {}, after.get(strand) or {}
        prefix = STRAND_LABELS[strand]
        changes += _compare_lines(old.get("posts") or [], new.get("posts") or [], key="label",
                                  what=f"{prefix} — poste", describe=_describe_post, fields=_POST_FIELDS)
        changes += _compare_lines(old.get("cofinancing") or [], new.get("cofinancing") or [], key="funder",
                                  what=f"{prefix} — cofinancement", describe=_describe_funding,
                                  fields=_FUNDING_FIELDS)
    return changes + _compare_fields(before, after, SECTION_FIELDS["resources"])


def _compare_territories(before: dict[str, Any], after: dict[str, Any],
                         qpv_names: dict[str, str]) -> list[Change]:
    old, new = set(before.get("qpv_codes") or []), set(after.get("qpv_codes") or [])

    def name(code: str) -> str:
        return f"{qpv_names[code]} ({code})" if code in qpv_names else code

    return [
        *(Change("QPV retiré", name(code), ABSENT, REMOVED) for code in sorted(old - new)),
        *(Change("QPV ajouté", ABSENT, name(code), ADDED) for code in sorted(new - old)),
    ]


# Pièces and the financing plan ----------------------------------------------------------------


def _describe_file(item: dict[str, Any]) -> str:
    return f"{item.get('display_name')} ({file_size(int(item.get('size') or 0))})"


def compare_attachments(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Change]:
    """Pièces per type: a file added, removed, or replaced by another one of its type."""
    types: list[str] = []
    for item in [*before, *after]:
        if item["type_code"] not in types:
            types.append(item["type_code"])
    changes = []
    for code in types:
        old = [a for a in before if a["type_code"] == code]
        new = [a for a in after if a["type_code"] == code]
        gone = [a for a in old if a["sha256"] not in {b["sha256"] for b in new}]
        came = [a for a in new if a["sha256"] not in {b["sha256"] for b in old}]
        label = (came or gone or [{}])[0].get("type_label") or code
        if len(gone) == 1 and len(came) == 1:
            changes.append(Change(label, _describe_file(gone[0]), _describe_file(came[0]), REPLACED,
                                  before_attachment=gone[0], after_attachment=came[0]))
            continue
        changes += [Change(label, _describe_file(a), ABSENT, REMOVED, before_attachment=a) for a in gone]
        changes += [Change(label, ABSENT, _describe_file(a), ADDED, after_attachment=a) for a in came]
    return changes


def compare_financing(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """Figures of the computed plan that differ, per strand then in total."""
    old = (before or {}).get("result") or {}
    new = (after or {}).get("result") or {}
    scopes = [*((STRAND_LABELS[s], ("strands", s)) for s in STRANDS), ("Total", ("totals",))]
    return [
        Change(f"{scope} — {FIGURE_LABELS[key]}", _money(_get(old, (*path, key))), _money(_get(new, (*path, key))))
        for scope, path in scopes for key in FIGURES
        if _get(old, (*path, key)) != _get(new, (*path, key))
    ]


# Whole versions --------------------------------------------------------------------------------


def compare_snapshots(before: dict[str, Any], after: dict[str, Any], *,
                      qpv_names: dict[str, str] | None = None) -> list[SectionChanges]:
    """Every section of the dossier, in its order, with the changes from ``before`` to ``after``."""
    old_content, new_content = before.get("content") or {}, after.get("content") or {}
    sections = [SectionChanges("structure", "Structure porteuse", _compare_fields(
        before.get("structure") or {}, after.get("structure") or {}, STRUCTURE_FIELDS))]
    for section in SECTIONS:
        if section.key == "attachments":
            changes = compare_attachments(before.get("attachments") or [], after.get("attachments") or [])
        else:
            old, new = old_content.get(section.key) or {}, new_content.get(section.key) or {}
            if section.key == "territories":
                changes = _compare_territories(old, new, qpv_names or {})
                changes += _leftovers(old, new, {"qpv_codes"})
            elif section.key == "resources":
                changes = _compare_resources(old, new) + _leftovers(old, new, set(STRANDS))
            else:
                fields = SECTION_FIELDS.get(section.key, [])
                changes = _compare_fields(old, new, fields)
                changes += _leftovers(old, new, {path[0] for path, _label, _show in fields})
        sections.append(SectionChanges(section.key, section.title, changes))
    sections.append(SectionChanges("finance", "Plan de financement calculé",
                                   compare_financing(before.get("finance"), after.get("finance"))))
    return sections


def summary(sections: list[SectionChanges]) -> list[str]:
    """One phrase per changed section (pièces one by one), for a list of versions."""
    phrases = []
    for section in sections:
        if not section.changes or section.key == "finance":  # the plan follows from the sections
            continue
        if section.key != "attachments":
            phrases.append(section.title)
            continue
        names = [f"Pièce « {c.after_attachment['display_name']} »" for c in section.changes if c.after_attachment]
        phrases += names or ["Pièces retirées"]
    return phrases or ["Aucune modification"]
