from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from ..admissibility import AUTOMATIC_CRITERIA
from ..geography import DEPARTEMENTS
from ..models import ROLE_TITLES, Role
from ..qpv_reference import HDF_DEPARTEMENTS
from .base import BaseForm, choices
from .dossier import MultiCheckboxField, SubForm
from .fields import FrenchDecimalField, FrenchPercentField, ParisDateTimeField

REQUIRED = "Ce champ est obligatoire."
CODE_MESSAGE = "Minuscules sans accent, chiffres et « _ » uniquement (2 à 40 caractères)."
#: Empty rows shown after the filled ones of a list: adding rows needs no JavaScript.
SPARE_ROWS = 2
MAX_CALL_YEARS = 3  # opening to closing (the reference call was open four months)


class AttachmentTypeRow(SubForm):
    """One required attachment type of a call: a row of the table."""

    code = StringField("Code", validators=[Optional(), Regexp(r"^[a-z0-9_]{2,40}$", message=CODE_MESSAGE)])
    label = StringField("Libellé", validators=[Optional(), Length(max=300)])
    remove = BooleanField("Supprimer")

    @property
    def is_blank(self) -> bool:
        return not (self.code.data or "").strip() and not (self.label.data or "").strip()

    @property
    def kept(self) -> bool:
        return not self.remove.data and not self.is_blank

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.kept:  # a removed or spare row is not checked, whatever it holds
            for field in self:
                field.errors = []
            return True
        for field, message in ((self.code, "Indiquez un code."), (self.label, "Indiquez le libellé.")):
            if not (field.data or "").strip() and not field.errors:
                field.errors = [*field.errors, message]
                ok = False
        return ok

    def item(self) -> dict[str, Any]:
        return {"code": self.code.data.strip(), "label": self.label.data.strip()}


class CriterionRow(AttachmentTypeRow):
    """One admissibility criterion of a call; ``auto`` when the system judges it."""

    auto = BooleanField("Jugé par le système")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.kept and self.auto.data and (self.code.data or "").strip() not in AUTOMATIC_CRITERIA:
            self.auto.errors = [*self.auto.errors, "Le système ne juge que les critères de code "
                                + ", ".join(AUTOMATIC_CRITERIA) + " : décochez cette case."]
            ok = False
        return ok

    def item(self) -> dict[str, Any]:
        return {**super().item(), "auto": bool(self.auto.data)}


class RowsField(FieldList):
    """A list edited as the rows of a table: filled rows, then ``SPARE_ROWS`` empty ones to add
    more; a row whose « Supprimer » is ticked, or left empty, is dropped on saving."""

    def __init__(self, row_form: type[AttachmentTypeRow], label: str, **kwargs: Any) -> None:
        super().__init__(FormField(row_form), label, **kwargs)

    def with_spare_rows(self) -> RowsField:
        trailing = 0
        for entry in reversed(self.entries):
            if not entry.form.is_blank:
                break
            trailing += 1
        for _ in range(SPARE_ROWS - trailing):
            self.append_entry()
        return self

    def items(self) -> list[dict[str, Any]]:
        return [entry.form.item() for entry in self.entries if entry.form.kept]

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        ok = super().validate(form, extra_validators)
        seen: set[str] = set()
        duplicated = False
        for entry in self.entries:
            if not entry.form.kept:
                continue
            code = (entry.form.code.data or "").strip()
            if code in seen:
                entry.form.code.errors = [*entry.form.code.errors, f"Le code « {code} » figure déjà plus haut."]
                duplicated = True
            seen.add(code)
        if duplicated:
            self.errors = [entry.errors for entry in self.entries]
        return ok and not duplicated


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
    fse_rate = FrenchPercentField(
        "Taux d'intervention FSE+ (%)", validators=[InputRequired(REQUIRED)],
        minimum=Decimal("0.01"), maximum=Decimal(1),
        description="En pourcentage, par exemple 60 pour 60 %. Référence : l'appel à projets.",
    )
    cej_forfait_per_youth = FrenchDecimalField(
        "Forfait CEJ par jeune (€)", validators=[InputRequired(REQUIRED)], minimum=Decimal(0),
        maximum=Decimal("9999999.99"),
        description="Base socle État : montant par jeune × nombre de jeunes.",
    )
    share_reperage = FrenchPercentField(
        "Part du forfait — volet repérage (%)", validators=[InputRequired(REQUIRED)],
        minimum=Decimal(0), maximum=Decimal(1), description="En pourcentage, par exemple 40 pour 40 %.",
    )
    share_sortie_emploi = FrenchPercentField(
        "Part du forfait — volet sortie vers l'emploi (%)",
        validators=[InputRequired(REQUIRED)], minimum=Decimal(0), maximum=Decimal(1),
        description="En pourcentage, par exemple 40 pour 40 %.",
    )
    flat_rate_other_costs = FrenchPercentField(
        "Taux forfaitaire des coûts restants (%)", validators=[InputRequired(REQUIRED)],
        minimum=Decimal(0), maximum=Decimal("0.40"),
        description="Au plus 40 % (art. 56 du règlement (UE) 2021/1060).",
    )
    required_attachments = RowsField(AttachmentTypeRow, "Pièces obligatoires")
    admissibility_criteria = RowsField(CriterionRow, "Critères de recevabilité")
    qpv_list_id = SelectField("Liste de référence des QPV", coerce=int)

    def __init__(self, *args: Any, qpv_lists: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.qpv_list_id.choices = choices([(0, "— Aucune liste pour l'instant —"), *qpv_lists])

    def validate_closes_at(self, field: ParisDateTimeField) -> None:
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError("La clôture doit être postérieure à l'ouverture.")
        if self.opens_at.data and field.data and field.data > self.opens_at.data + timedelta(days=366 * MAX_CALL_YEARS):
            raise ValidationError(f"Un appel reste ouvert au plus {MAX_CALL_YEARS} ans : rapprochez la clôture.")

    def with_spare_rows(self) -> CallForm:
        """The form as shown: each list of rows followed by empty ones."""
        self.required_attachments.with_spare_rows()
        self.admissibility_criteria.with_spare_rows()
        return self

    def call_data(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """The values of ``fields`` as the call stores them."""
        data = {key: getattr(self, key).data for key in fields}
        data["required_attachments"] = self.required_attachments.items()
        data["admissibility_criteria"] = self.admissibility_criteria.items()
        data["qpv_list_id"] = data.get("qpv_list_id") or None
        return data


STAFF_ROLES = [Role.officer, Role.committee, Role.admin]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


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


class UserEditForm(BaseForm):
    """An account's name, address and role; an applicant's role is not offered (their account
    belongs to a structure)."""

    full_name = StringField("Prénom et nom", validators=[DataRequired(REQUIRED), Length(max=200)])
    email = EmailField(
        "Adresse électronique", filters=[_strip],
        validators=[DataRequired(REQUIRED), Email("Adresse électronique invalide."), Length(max=254)],
    )
    role = SelectField(
        "Rôle", validators=[InputRequired(REQUIRED)],
        description="Un changement de rôle vaut dès la page suivante de la personne.",
    )

    def __init__(self, *args: Any, applicant: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.applicant = applicant
        if applicant:
            del self.role
        else:
            self.role.choices = choices((r.value, ROLE_TITLES[r]) for r in STAFF_ROLES)


class AccountStateForm(BaseForm):
    """Deactivate or reactivate an account, or lift its login lock: the buttons say which."""


class QpvUploadForm(BaseForm):
    """A QPV list loaded from the web page, read as ``grants qpv import`` reads it."""

    file = FileField(
        "Fichier CSV de la liste", validators=[FileRequired("Choisissez le fichier de la liste.")],
        description="CSV officiel de l'ANCT (séparateur « ; », colonnes code_qp, lib_qp, insee_com, lib_com) "
                    "ou CSV normalisé (séparateur « , », colonnes code_qp, nom_qp, insee_com, lib_com) ; "
                    "UTF-8 ou Windows-1252.",
    )
    name = StringField("Nom de la liste", validators=[Optional(), Length(max=200)],
                       description="Laisser vide : d'après le fichier, par exemple « QPV Hauts-de-France — "
                                   "géographie 2024 ».")
    version_date = DateField("Date de version", validators=[Optional()],
                             description="Laisser vide : aujourd'hui.")
    departements = MultiCheckboxField(
        "Ne garder que les QPV de ces départements", validate_choice=True,
        description="Aucune case cochée : tous les QPV du fichier.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.departements.choices = choices((code, f"{code} — {DEPARTEMENTS[code]}") for code in HDF_DEPARTEMENTS)
