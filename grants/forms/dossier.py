"""Forms of the applicant journey: the structure profile and the dossier sections.

Each section form knows how to load itself from the dossier's JSON content
(``from_content``) and how to write back (``to_content``): amounts as exact decimal
strings, dates as ISO strings.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..finance import STRANDS
from ..geography import Commune, communes
from ..models import STRUCTURE_KIND_TITLES, StructureKind
from .auth import SiretField
from .base import BaseForm, choices
from .fields import FrenchDecimalField

REQUIRED = "Ce champ est obligatoire."
INVESTMENT_MESSAGE = (
    "Le FSE+ ne finance pas l'investissement (véhicules, « job-trucks », équipements) : "
    "seuls les frais de personnel sont retenus. Retirez cette ligne."
)


class SubForm(Form):
    """Nested forms: French messages, no CSRF of their own."""

    class Meta:
        locales = ("fr_FR", "fr")


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _to_decimal(text: Any) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text))


# Structure profile ------------------------------------------------------------------------


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_PICKED = re.compile(r"INSEE\s+(\d{5}|2[AB]\d{3})\s*$")
_BARE_CODE = re.compile(r"\d{5}|2[AB]\d{3}")
_DEPARTEMENT = re.compile(r"\((\d{2}|2[AB])\)")


def find_communes(text: str) -> list[Commune]:
    """Communes matching what was typed or picked, accents ignored.

    An option of the list (``commune_label``) names its INSEE code: exactly that commune.
    A bare five-digit code is a postal code as often as an INSEE code (62300 is Lens's
    postal code and Équihen-Plage's INSEE code): every commune it may designate is
    returned, so that the person picks. Otherwise a name, with an optional ``(62)``."""
    text = text.strip()
    everything = communes()
    picked = _PICKED.search(text)
    if picked:
        found = everything.get(picked.group(1))
        return [found] if found else []
    if _BARE_CODE.fullmatch(text):
        by_postal_code = [c for c in everything.values() if text in c.postal_codes]
        by_insee = [everything[text]] if text in everything and everything[text] not in by_postal_code else []
        return sorted(by_postal_code, key=lambda c: _fold(c.name)) + by_insee
    departement = _DEPARTEMENT.search(text)
    name = _fold(re.sub(r"\(.*$|—.*$", "", text))
    return [
        c for c in everything.values()
        if _fold(c.name) == name and (departement is None or c.departement == departement.group(1))
    ]


def commune_label(commune: Commune) -> str:
    """One option of the commune list: name, département, postal code(s), INSEE code."""
    postal = ", ".join(commune.postal_codes)
    return f"{commune.name} ({commune.departement}) — CP {postal} — INSEE {commune.insee}"


class CommuneField(StringField):
    """A Hauts-de-France commune typed by name, postal code or INSEE code, or picked in the
    list; data is the INSEE code of the commune the person designated, never a guess."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data and self.data in communes():
            return commune_label(communes()[self.data])
        return self.data or ""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        found = find_communes(valuelist[0])
        if not found:
            raise ValueError("Commune inconnue en Hauts-de-France : choisissez-la dans la liste proposée.")
        if len(found) > 1:
            options = " ; ".join(commune_label(c) for c in found)
            raise ValueError(
                f"« {valuelist[0].strip()} » désigne plusieurs communes : choisissez la vôtre dans la liste "
                f"({options})."
            )
        self.data = found[0].insee


class StructureForm(BaseForm):
    name = StringField("Nom de la structure", validators=[DataRequired(REQUIRED), Length(max=200)])
    siret = SiretField("SIRET", validators=[DataRequired(REQUIRED)])
    kind = SelectField(
        "Type de structure",
        choices=choices((k.value, STRUCTURE_KIND_TITLES[k]) for k in StructureKind),
        validators=[DataRequired(REQUIRED)],
    )
    legal_form = StringField("Forme juridique", validators=[Optional(), Length(max=100)],
                             description="Par exemple : association loi 1901, GIP.")
    address = StringField("Adresse", validators=[Optional(), Length(max=300)])
    postal_code = StringField("Code postal", validators=[Optional(), Length(min=5, max=5, message="5 chiffres.")])
    commune_insee = CommuneField(
        "Commune", validators=[Optional()],
        description="Tapez le nom ou le code postal et choisissez dans la liste.",
    )
    legal_rep_name = StringField("Représentant légal (prénom et nom)", validators=[Optional(), Length(max=200)])
    legal_rep_title = StringField("Qualité du représentant légal", validators=[Optional(), Length(max=200)],
                                  description="Par exemple : président, directrice.")
    contact_name = StringField("Personne à contacter", validators=[Optional(), Length(max=200)])
    contact_email = EmailField("Courriel de contact",
                               validators=[Optional(), Email("Adresse électronique invalide."), Length(max=254)])
    contact_phone = TelField("Téléphone", validators=[Optional(), Length(max=30)])


STRUCTURE_REQUIRED = {
    "legal_form": "la forme juridique",
    "address": "l'adresse",
    "postal_code": "le code postal",
    "commune_insee": "la commune",
    "legal_rep_name": "le représentant légal",
    "legal_rep_title": "la qualité du représentant légal",
    "contact_email": "le courriel de contact",
}


# Sections -----------------------------------------------------------------------------


class SectionForm(BaseForm):
    """A dossier section: loads from and saves to the dossier's JSON content."""

    @classmethod
    def from_content(cls, content: dict[str, Any], **kwargs: Any) -> SectionForm:
        return cls(data=cls.content_to_data(content or {}), **kwargs)

    @classmethod
    def content_to_data(cls, content: dict[str, Any]) -> dict[str, Any]:
        return dict(content)

    def to_content(self) -> dict[str, Any]:
        return {
            name: field.data for name, field in self._fields.items() if name not in ("csrf_token",)
        }


class IdentificationForm(SectionForm):
    contact_name = StringField("Responsable du projet", validators=[DataRequired(REQUIRED), Length(max=200)])
    contact_email = EmailField("Son courriel", validators=[DataRequired(REQUIRED), Email("Adresse électronique invalide.")])
    contact_phone = TelField("Son téléphone", validators=[Optional(), Length(max=30)])
    consortium = RadioField(
        "Le projet est-il porté avec d'autres structures (consortium) ?",
        choices=choices([("no", "Non, notre structure répond seule"), ("yes", "Oui, avec d'autres structures")]),
        validators=[InputRequired(REQUIRED)],
        description="L'appel n'admet pas de consortium : chaque structure répond seule et justifie ses propres dépenses.",
    )

    def validate_consortium(self, field: RadioField) -> None:
        if field.data == "yes":
            raise ValidationError(
                "Cet appel à projets n'admet pas de consortium : chaque structure dépose son propre "
                "dossier et justifie ses propres dépenses. Le dépôt sera bloqué tant que la réponse est « Oui »."
            )


class ProjectForm(SectionForm):
    title = StringField("Intitulé du projet", validators=[DataRequired(REQUIRED), Length(max=300)])
    summary = TextAreaField(
        "Résumé du projet", validators=[DataRequired(REQUIRED), Length(max=5000)],
        description="Objectifs, actions de repérage et d'accompagnement vers l'emploi, partenariats (5 000 caractères au plus).",
    )
    start_date = DateField("Début de l'opération", validators=[InputRequired(REQUIRED)])
    end_date = DateField("Fin de l'opération", validators=[InputRequired(REQUIRED)],
                         description="L'opération dure de 12 à 36 mois.")

    @classmethod
    def content_to_data(cls, content: dict[str, Any]) -> dict[str, Any]:
        data = dict(content)
        for key in ("start_date", "end_date"):
            if data.get(key):
                data[key] = date.fromisoformat(data[key])
        return data

    def validate_end_date(self, field: DateField) -> None:
        start, end = self.start_date.data, field.data
        if not start or not end:
            return
        months = (end.year - start.year) * 12 + (end.month - start.month) + (1 if end.day >= start.day else 0)
        if end <= start:
            raise ValidationError("La fin doit être postérieure au début.")
        if not 12 <= months <= 36:
            raise ValidationError(f"L'opération doit durer de 12 à 36 mois (ici {months} mois).")

    def to_content(self) -> dict[str, Any]:
        return {
            "title": self.title.data.strip(),
            "summary": self.summary.data.strip(),
            "start_date": self.start_date.data.isoformat(),
            "end_date": self.end_date.data.isoformat(),
        }


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TerritoriesForm(SectionForm):
    qpv_codes = MultiCheckboxField("QPV concernés", validate_choice=True)

    def __init__(self, *args: Any, qpv_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.qpv_codes.choices = choices(qpv_choices)

    def validate_qpv_codes(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError("Choisissez au moins un QPV.")

    def to_content(self) -> dict[str, Any]:
        return {"qpv_codes": sorted(set(self.qpv_codes.data or []))}


def _count(label: str, description: str | None = None) -> IntegerField:
    return IntegerField(
        label,
        validators=[InputRequired(REQUIRED), NumberRange(min=0, max=1_000_000, message="Un nombre entier positif.")],
        description=description,
        render_kw={"inputmode": "numeric"},
    )


class StrandPublicForm(SubForm):
    nb_jeunes = _count("Jeunes accompagnés")
    nb_jeunes_qpv = _count("dont jeunes résidant en QPV")

    def validate_nb_jeunes_qpv(self, field: IntegerField) -> None:
        if field.data is not None and self.nb_jeunes.data is not None and field.data > self.nb_jeunes.data:
            raise ValidationError("Ne peut pas dépasser le nombre de jeunes accompagnés.")


class PublicForm(SectionForm):
    reperage = FormField(StrandPublicForm, label="Volet repérage")
    sortie_emploi = FormField(StrandPublicForm, label="Volet sortie vers l'emploi")
    age_min = IntegerField("Âge minimum", validators=[InputRequired(REQUIRED), NumberRange(16, 29, "Entre 16 et 29 ans.")])
    age_max = IntegerField("Âge maximum", validators=[InputRequired(REQUIRED), NumberRange(16, 29, "Entre 16 et 29 ans.")],
                           description="29 ans pour les jeunes reconnus travailleurs handicapés (RQTH).")
    cej_qpv_share_current = FrenchDecimalField(
        "Part des jeunes QPV dans vos entrées en CEJ aujourd'hui (%)", places=1,
        validators=[InputRequired(REQUIRED)], minimum=Decimal(0), maximum=Decimal(100),
    )
    cej_qpv_share_target = FrenchDecimalField(
        "Part visée à l'issue de l'opération (%)", places=1, validators=[InputRequired(REQUIRED)],
        minimum=Decimal(0), maximum=Decimal(100), description="Objectif régional : 30 %.",
    )

    def validate_age_max(self, field: IntegerField) -> None:
        if self.age_min.data is not None and field.data is not None and field.data < self.age_min.data:
            raise ValidationError("L'âge maximum doit être au moins l'âge minimum.")

    @classmethod
    def content_to_data(cls, content: dict[str, Any]) -> dict[str, Any]:
        data = dict(content)
        for key in ("cej_qpv_share_current", "cej_qpv_share_target"):
            data[key] = _to_decimal(data.get(key))
        return data

    def to_content(self) -> dict[str, Any]:
        return {
            "reperage": dict(self.reperage.data),
            "sortie_emploi": dict(self.sortie_emploi.data),
            "age_min": self.age_min.data,
            "age_max": self.age_max.data,
            "cej_qpv_share_current": _decimal_text(self.cej_qpv_share_current.data),
            "cej_qpv_share_target": _decimal_text(self.cej_qpv_share_target.data),
        }


POST_CATEGORIES = [
    ("staff", "Frais de personnel"),
    ("investment", "Investissement (véhicule, job-truck, équipement)"),
]


class PostForm(SubForm):
    label = StringField("Intitulé du poste", validators=[Optional(), Length(max=200)])
    category = SelectField("Nature de la dépense", choices=choices(POST_CATEGORIES), default="staff")
    annual_cost = FrenchDecimalField("Coût annuel chargé (€)", validators=[Optional()], minimum=Decimal(0),
                                     maximum=Decimal("9999999.99"))
    fte = FrenchDecimalField("Quotité (ETP)", places=2, validators=[Optional()],
                             minimum=Decimal("0.01"), maximum=Decimal(1))
    months = IntegerField("Mois", validators=[Optional(), NumberRange(1, 48, "Entre 1 et 48 mois.")],
                          render_kw={"inputmode": "numeric"})

    def is_blank(self) -> bool:
        """An untouched spare row is ignored, not an error."""
        return not any(
            field.raw_data and str(field.raw_data[0]).strip()
            for field in (self.label, self.annual_cost, self.fte, self.months)
        ) and not (self.label.data or "").strip()

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.is_blank():
            return ok
        for field, message in (
            (self.label, "Indiquez l'intitulé du poste."),
            (self.annual_cost, "Indiquez le coût annuel."),
            (self.fte, "Indiquez la quotité (ETP)."),
            (self.months, "Indiquez le nombre de mois."),
        ):
            if (field.data is None or field.data == "") and not field.errors:
                field.errors = [*field.errors, message]
                ok = False
        if self.category.data == "investment":
            self.category.errors = [*self.category.errors, INVESTMENT_MESSAGE]
            ok = False
        return ok


FUNDING_STATUS = [("acquired", "Acquis"), ("requested", "Sollicité")]


class CofinancingForm(SubForm):
    funder = StringField("Financeur", validators=[Optional(), Length(max=200)])
    amount = FrenchDecimalField("Montant (€)", validators=[Optional()], minimum=Decimal(0),
                                maximum=Decimal("99999999.99"))
    status = SelectField("Statut", choices=choices(FUNDING_STATUS), default="requested")

    def is_blank(self) -> bool:
        return not (self.funder.data or "").strip() and not (self.amount.raw_data and self.amount.raw_data[0].strip())

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.is_blank():
            return ok
        if not (self.funder.data or "").strip():
            self.funder.errors = [*self.funder.errors, "Indiquez le financeur."]
            ok = False
        if self.amount.data is None and not self.amount.errors:
            self.amount.errors = [*self.amount.errors, "Indiquez le montant."]
            ok = False
        return ok


EXTRA_ROWS = 2


class StrandResourcesForm(SubForm):
    posts = FieldList(FormField(PostForm), min_entries=1)
    cofinancing = FieldList(FormField(CofinancingForm), min_entries=1)
    requested = FrenchDecimalField(
        "Montant FSE+ sollicité (€)", validators=[Optional()], minimum=Decimal(0),
        maximum=Decimal("99999999.99"),
        description="Facultatif : sans montant, le FSE+ calculé est le maximum possible.",
    )


class ResourcesForm(SectionForm):
    reperage = FormField(StrandResourcesForm, label="Volet repérage")
    sortie_emploi = FormField(StrandResourcesForm, label="Volet sortie vers l'emploi")

    @classmethod
    def content_to_data(cls, content: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for strand in STRANDS:
            raw = content.get(strand) or {}
            posts = [
                {**p, "annual_cost": _to_decimal(p.get("annual_cost")), "fte": _to_decimal(p.get("fte"))}
                for p in raw.get("posts", [])
            ]
            cofinancing = [{**c, "amount": _to_decimal(c.get("amount"))} for c in raw.get("cofinancing", [])]
            blank_post = {"label": "", "category": "staff", "annual_cost": None, "fte": None, "months": None}
            blank_cofi = {"funder": "", "amount": None, "status": "requested"}
            data[strand] = {
                "posts": posts + [blank_post] * EXTRA_ROWS,
                "cofinancing": cofinancing + [blank_cofi] * EXTRA_ROWS,
                "requested": _to_decimal(raw.get("requested")),
            }
        return data

    def to_content(self) -> dict[str, Any]:
        content: dict[str, Any] = {}
        for strand in STRANDS:
            sub = getattr(self, strand).form
            content[strand] = {
                "posts": [
                    {
                        "label": row.form.label.data.strip(),
                        "category": row.form.category.data,
                        "annual_cost": _decimal_text(row.form.annual_cost.data),
                        "fte": _decimal_text(row.form.fte.data),
                        "months": row.form.months.data,
                    }
                    for row in sub.posts
                    if not row.form.is_blank()
                ],
                "cofinancing": [
                    {
                        "funder": row.form.funder.data.strip(),
                        "amount": _decimal_text(row.form.amount.data),
                        "status": row.form.status.data,
                    }
                    for row in sub.cofinancing
                    if not row.form.is_blank()
                ],
                "requested": _decimal_text(sub.requested.data),
            }
        return content


INDICATORS = [
    ("identified", "Jeunes repérés"),
    ("identified_qpv", "dont jeunes résidant en QPV"),
    ("cej_entries", "Entrées en contrat d'engagement jeune (CEJ)"),
    ("exits_employment", "Sorties vers l'emploi"),
    ("exits_training", "Sorties vers la formation"),
    ("exits_apprenticeship", "Sorties vers l'apprentissage"),
    ("retention_6_months", "Jeunes toujours en emploi 6 mois après"),
]


class IndicatorsForm(SectionForm):
    identified = _count("Jeunes repérés")
    identified_qpv = _count("dont jeunes résidant en QPV")
    cej_entries = _count("Entrées en contrat d'engagement jeune (CEJ)")
    exits_employment = _count("Sorties vers l'emploi")
    exits_training = _count("Sorties vers la formation")
    exits_apprenticeship = _count("Sorties vers l'apprentissage")
    retention_6_months = _count("Jeunes toujours en emploi 6 mois après")

    def validate_identified_qpv(self, field: IntegerField) -> None:
        if field.data is not None and self.identified.data is not None and field.data > self.identified.data:
            raise ValidationError("Ne peut pas dépasser le nombre de jeunes repérés.")


class DeclarationForm(SectionForm):
    signatory_name = StringField("Nom du signataire", validators=[DataRequired(REQUIRED), Length(max=200)])
    signatory_quality = StringField(
        "Qualité du signataire", validators=[DataRequired(REQUIRED), Length(max=200)],
        description="Représentant légal ou personne mandatée (joindre la délibération ou le mandat).",
    )
    sworn = BooleanField(
        "J'atteste sur l'honneur l'exactitude des informations de ce dossier, la régularité de la "
        "situation fiscale et sociale de la structure, et que l'opération n'est pas achevée à la date du dépôt.",
    )


class UploadForm(BaseForm):
    type_code = SelectField("Type de pièce", validators=[DataRequired(REQUIRED)])

    def __init__(self, *args: Any, type_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type_code.choices = choices(type_choices)


class ConfirmForm(BaseForm):
    """An empty form: a POST with its CSRF token, for confirmations."""


class WithdrawForm(BaseForm):
    confirm = BooleanField("Je confirme le retrait de ce dossier", validators=[DataRequired("Cochez la case pour confirmer le retrait.")])
