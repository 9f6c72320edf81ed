from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from wtforms import EmailField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import TextArea

from ..models import ROLE_TITLES, Role
from .base import BaseForm, choices
from .fields import FrenchDecimalField, ParisDateTimeField

REQUIRED = "Ce champ est obligatoire."
MAX_CALL_YEARS = 3  # opening to closing (the reference call was open four months)
_CODE = re.compile(r"^[a-z0-9_]{2,40}$")


class CodedListField(Field):
    """One item per line, ``code | libellé`` (criteria may add ``| auto``)."""

    widget = TextArea()

    def __init__(self, *args: Any, allow_auto: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_auto = allow_auto

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        lines = []
        for item in self.data or []:
            parts = [item["code"], item["label"]]
            if self.allow_auto and item.get("auto"):
                parts.append("auto")
            lines.append(" | ".join(parts))
        return "\n".join(lines)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for number, line in enumerate(valuelist[0].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 2 or not parts[1]:
                raise ValueError(f"Ligne {number} : format attendu « code | libellé ».")
            code, label = parts[0], parts[1]
            if not _CODE.match(code):
                raise ValueError(
                    f"Ligne {number} : le code « {code} » ne doit contenir que des minuscules "
                    "sans accent, des chiffres et « _ » (2 à 40 caractères)."
                )
            if code in seen:
                raise ValueError(f"Ligne {number} : le code « {code} » est en double.")
            seen.add(code)
            item: dict[str, Any] = {"code": code, "label": label[:300]}
            if self.allow_auto:
                extra = parts[2].lower() if len(parts) > 2 else ""
                if extra not in ("", "auto", "manuel"):
                    raise ValueError(f"Ligne {number} : troisième colonne « auto » ou « manuel ».")
                item["auto"] = extra == "auto"
            items.append(item)
        self.data = items


class CallForm(BaseForm):
    code = StringField(
        "Code de l'appel",
        validators=[
            DataRequired(REQUIRED),
            Length(max=32),
            Regexp(r"^[A-Z0-9-]+$", message="Majuscules, chiffres et tirets uniquement (ex. AAP-QPV)."),
        ],
        description="Préfixe des numéros de dossier, ex. AAP-QPV.",
    )
    title = StringField("Intitulé", validators=[DataRequired(REQUIRED), Length(max=300)])
    programme = TextAreaField(
        "Texte de l'appel", validators=[Optional()], description="Présentation affichée aux porteurs."
    )
    opens_at = ParisDateTimeField(
        "Ouverture (heure de Paris)", validators=[InputRequired(REQUIRED)]
    )
    closes_at = ParisDateTimeField(
        "Clôture (heure de Paris)", validators=[InputRequired(REQUIRED)],
        description="Aucun dépôt n'est accepté à partir de cette minute.",
    )
    envelope = FrenchDecimalField(
        "Enveloppe FSE+ (€)", validators=[InputRequired(REQUIRED)], minimum=Decimal(0),
        maximum=Decimal("99999999999999.99"),
    )
    fse_rate = FrenchDecimalField(
        "Taux d'intervention FSE+", places=4, validators=[InputRequired(REQUIRED)],
        minimum=Decimal("0.0001"), maximum=Decimal(1),
        description="Entre 0 et 1 (0,60 pour 60 %). Référence : l'appel à projets.",
    )
    cej_forfait_per_youth = FrenchDecimalField(
        "Forfait CEJ par jeune (€)", validators=[InputRequired(REQUIRED)], minimum=Decimal(0),
        maximum=Decimal("9999999.99"),
        description="Base socle État : montant par jeune × nombre de jeunes.",
    )
    share_reperage = FrenchDecimalField(
        "Part du forfait — volet repérage", places=4, validators=[InputRequired(REQUIRED)],
        minimum=Decimal(0), maximum=Decimal(1), description="Entre 0 et 1 (0,40 pour 40 %).",
    )
    share_sortie_emploi = FrenchDecimalField(
        "Part du forfait — volet sortie vers l'emploi", places=4,
        validators=[InputRequired(REQUIRED)], minimum=Decimal(0), maximum=Decimal(1),
        description="Entre 0 et 1 (0,40 pour 40 %).",
    )
    flat_rate_other_costs = FrenchDecimalField(
        "Taux forfaitaire des coûts restants", places=4, validators=[InputRequired(REQUIRED)],
        minimum=Decimal(0), maximum=Decimal("0.40"),
        description="Au plus 0,40 (art. 56 du règlement (UE) 2021/1060).",
    )
    required_attachments = CodedListField(
        "Pièces obligatoires", description="Une pièce par ligne : « code | libellé »."
    )
    admissibility_criteria = CodedListField(
        "Critères de recevabilité",
        allow_auto=True,
        description="Un critère par ligne : « code | libellé | auto » ou « … | manuel ».",
    )
    qpv_list_id = SelectField("Liste de référence des QPV", coerce=int)

    def __init__(self, *args: Any, qpv_lists: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.qpv_list_id.choices = choices([(0, "— Aucune liste pour l'instant —"), *qpv_lists])

    def validate_closes_at(self, field: ParisDateTimeField) -> None:
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError("La clôture doit être postérieure à l'ouverture.")
        if self.opens_at.data and field.data and field.data > self.opens_at.data + timedelta(days=366 * MAX_CALL_YEARS):
            raise ValidationError(f"Un appel reste ouvert au plus {MAX_CALL_YEARS} ans : rapprochez la clôture.")


STAFF_ROLES = [Role.officer, Role.committee, Role.admin]


class UserCreateForm(BaseForm):
    full_name = StringField("Prénom et nom", validators=[DataRequired(REQUIRED), Length(max=200)])
    email = EmailField(
        "Adresse électronique",
        validators=[DataRequired(REQUIRED), Email("Adresse électronique invalide."), Length(max=254)],
    )
    role = SelectField(
        "Rôle",
        choices=choices((r.value, ROLE_TITLES[r]) for r in STAFF_ROLES),
        validators=[DataRequired(REQUIRED)],
        description="Les porteurs de projet créent eux-mêmes leur compte.",
    )
