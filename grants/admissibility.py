"""The criteria the system can judge on a submitted version (docs/admissibility.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .dossier_sections import stored_result
from .formatting import PARIS

PASS, FAIL = "pass", "fail"
#: The criteria :func:`evaluate` judges: only these can be marked automatic on a call.
AUTOMATIC_CRITERIA = (
    "deadline", "attachments", "single_applicant", "structure_verified", "territory", "public", "expenses", "financing",
)


@dataclass(frozen=True)
class Verdict:
    value: str | None  # "pass", "fail", or None when the system cannot judge
    reason: str


def evaluate(
    snapshot: dict[str, Any], *, closes_at: datetime, required_types: list[str], reference_qpv: set[str],
    structure_verified_at: datetime | None = None,
) -> dict[str, Verdict]:
    """Verdicts of the automatic criteria, with the reason shown to the officer.

    ``structure_verified_at`` is when DREETS staff verified the structure (None: still to
    verify); unlike the others, this criterion is the structure's standing today, not the
    submitted version's."""
    content = snapshot.get("content") or {}
    verdicts: dict[str, Verdict] = {}

    submitted = datetime.fromisoformat(snapshot["submitted_at"])
    verdicts["deadline"] = (
        Verdict(PASS, "Déposé avant la clôture.") if submitted < closes_at
        else Verdict(FAIL, "Déposé après la clôture de l'appel.")
    )

    present = {a["type_code"] for a in snapshot.get("attachments", [])}
    absent = [code for code in required_types if code not in present]
    verdicts["attachments"] = (
        Verdict(PASS, "Toutes les pièces obligatoires sont jointes.") if not absent
        else Verdict(FAIL, "Pièces manquantes : " + ", ".join(absent) + ".")
    )

    consortium = (content.get("identification") or {}).get("consortium")
    verdicts["single_applicant"] = (
        Verdict(PASS, "La structure déclare répondre seule.") if consortium == "no"
        else Verdict(FAIL, "Consortium déclaré.") if consortium == "yes"
        else Verdict(None, "Réponse absente.")
    )

    verdicts["structure_verified"] = (
        Verdict(PASS, f"Structure vérifiée par la DREETS le {structure_verified_at.astimezone(PARIS):%d/%m/%Y}.")
        if structure_verified_at is not None
        else Verdict(FAIL, "Structure à vérifier : la DREETS n'a pas encore vérifié que la structure est bien celle "
                           "de son SIRET (page « Structure » du dossier).")
    )

    codes = (content.get("territories") or {}).get("qpv_codes") or []
    foreign = [c for c in codes if c not in reference_qpv]
    verdicts["territory"] = (
        Verdict(FAIL, "Aucun QPV indiqué.") if not codes
        else Verdict(FAIL, "QPV hors liste de référence : " + ", ".join(foreign) + ".") if foreign
        else Verdict(PASS, f"{len(codes)} QPV de la liste de référence, dans des communes éligibles.")
    )

    public = content.get("public") or {}
    age_min, age_max = public.get("age_min"), public.get("age_max")
    verdicts["public"] = (
        Verdict(None, "Âges non renseignés.") if age_min is None or age_max is None
        else Verdict(PASS, f"Jeunes de {age_min} à {age_max} ans.") if 16 <= age_min <= age_max <= 29
        else Verdict(FAIL, f"Tranche d'âge {age_min}-{age_max} ans hors 16-29 ans.")
    )

    resources = content.get("resources") or {}
    investment = [
        p.get("label", "") for strand in resources.values() for p in (strand or {}).get("posts", [])
        if p.get("category", "staff") != "staff"
    ]
    verdicts["expenses"] = (
        Verdict(PASS, "Frais de personnel uniquement.") if not investment
        else Verdict(FAIL, "Dépenses d'investissement : " + ", ".join(investment) + ".")
    )

    result = stored_result(snapshot.get("finance"))
    if result is None:
        verdicts["financing"] = Verdict(FAIL, "Plan de financement absent.")
    elif result.has_errors:
        verdicts["financing"] = Verdict(FAIL, " ".join(f.message for f in result.errors))
    else:
        verdicts["financing"] = Verdict(
            PASS, "Plan équilibré, FSE+ ≤ 60 % de la base subventionnable, aucune anomalie bloquante."
        )
    return verdicts
