"""Forms of the applicant journey: the structure profile and the dossier sections.

Each section form knows how to load itself from the dossier's JSON content
(``from_content``) and how to write back (``to_content``): amounts as exact decimal
strings, dates as ISO strings.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

from flask_wtf.file import FileField, MultipleFileField
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
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.fields.core import UnboundField
from wtforms.widgets import CheckboxInput, ListWidget

from ..finance import STRANDS
from ..geography import Commune, communes
from ..models import STRUCTURE_KIND_TITLES, StructureKind
from .auth import SiretField
from .base import BaseForm, choices
from .fields import PARIS, FrenchDecimalField

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
#
# A section saves whatever is typed (« vous pouvez enregistrer et revenir plus tard »): its
# validators only refuse malformed values (a number that is not one, a date that is not a
# date, an FTE outside ]0, 1]…). What submission needs is marked ``Needed()`` and judged on
# the stored content by ``grants.dossier_sections.missing_items``.


class Needed:
    """Marks a field as needed to submit the dossier, not to save its section: the label
    carries the asterisk and ``missing_items`` names the field while it is empty."""

    field_flags = {"needed": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


def needed_fields(form_class: type[Form]) -> list[tuple[str, str, type[Form] | None]]:
    """``(name, label, sub-form class or None)`` of the fields of ``form_class`` marked
    ``Needed()``, and of its nested forms (``FormField``), in the order of the form (read
    from the class: no form is built, no request is needed)."""
    found = []
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if not isinstance(unbound, UnboundField):
            continue
        nested = unbound.field_class is FormField
        validators = unbound.kwargs.get("validators") or ()
        if not nested and not any(isinstance(v, Needed) for v in validators):
            continue
        label = unbound.kwargs.get("label") or (unbound.args[0] if unbound.args else name)
        found.append((unbound.creation_counter, name, label if isinstance(label, str) else name,
                      unbound.args[0] if nested else None))
    return [(name, label, sub) for _order, name, label, sub in sorted(found)]


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


CONSORTIUM_REFUSED = (
    "Cet appel à projets n'admet pas de consortium : chaque structure dépose son propre "
    "dossier et justifie ses propres dépenses. Le dépôt sera bloqué tant que la réponse est « Oui »."
)


class IdentificationForm(SectionForm):
    contact_name = StringField("Responsable du projet", validators=[Optional(), Needed(), Length(max=200)])
    contact_email = EmailField("Son courriel", validators=[Optional(), Needed(), Email("Adresse électronique invalide.")])
    contact_phone = TelField("Son téléphone", validators=[Optional(), Length(max=30)])
    consortium = RadioField(
        "Le projet est-il porté avec d'autres structures (consortium) ?",
        choices=choices([("no", "Non, notre structure répond seule"), ("yes", "Oui, avec d'autres structures")]),
        validators=[Optional(), Needed()],
        description="L'appel n'admet pas de consortium : chaque structure répond seule et justifie ses propres dépenses.",
    )

    @classmethod
    def from_structure(cls, structure: Any, **kwargs: Any) -> IdentificationForm:
        """The section's first form: the project contact is the profile's contact until the
        applicant names someone else."""
        return cls.from_content({
            "contact_name": structure.contact_name or "", "contact_email": structure.contact_email or "",
            "contact_phone": structure.contact_phone or "",
        }, **kwargs)

    def to_content(self) -> dict[str, Any]:
        return {
            "contact_name": (self.contact_name.data or "").strip(),
            "contact_email": (self.contact_email.data or "").strip(),
            "contact_phone": (self.contact_phone.data or "").strip(),
            "consortium": self.consortium.data,
        }


OPERATION_START_MONTHS_AFTER_CLOSING = 24
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)


def _add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` (the last day of the month when it has fewer days)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def operation_window(call: Any) -> tuple[date, date, date]:
    """``(earliest start, latest start, call opening)`` of an operation for ``call``.

    The operation must still run when the call opens (regulation (EU) 2021/1060, art. 63(6):
    no operation completed before its application), so it ends after the opening and, lasting
    at most 36 months, starts at most 36 months before; it starts at the latest 24 months after
    the closing. Without a call, only the years 2000 to 2100 (what a form may hold)."""
    if call is None:
        return EARLIEST_DATE, LATEST_DATE, EARLIEST_DATE
    opening = call.opens_at.astimezone(PARIS).date()
    closing = call.closes_at.astimezone(PARIS).date()
    earliest = max(_add_months(opening, -36), EARLIEST_DATE)
    latest = min(_add_months(closing, OPERATION_START_MONTHS_AFTER_CLOSING), LATEST_DATE)
    return earliest, latest, opening


class ProjectForm(SectionForm):
    title = StringField("Intitulé du projet", validators=[Optional(), Needed(), Length(max=300)])
    summary = TextAreaField(
        "Résumé du projet", validators=[Optional(), Needed(), Length(max=5000)],
        description="Objectifs, actions de repérage et d'accompagnement vers l'emploi, partenariats (5 000 caractères au plus).",
    )
    start_date = DateField("Début de l'opération", validators=[Optional(), Needed()])
    end_date = DateField("Fin de l'opération", validators=[Optional(), Needed()],
                         description="L'opération dure de 12 à 36 mois.")

    def __init__(self, *args: Any, call: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = call  # the call's calendar bounds the operation's dates (operation_window)

    @classmethod
    def content_to_data(cls, content: dict[str, Any]) -> dict[str, Any]:
        data = dict(content)
        for key in ("start_date", "end_date"):
            if data.get(key):
                try:
                    data[key] = date.fromisoformat(data[key])
                except (TypeError, ValueError):
                    data[key] = None  # stored before dates were checked: to be typed again
        return data

    def validate_start_date(self, field: DateField) -> None:
        if field.data is None:
            return
        earliest, latest, opening = operation_window(self.call)
        if self.call is None and not earliest <= field.data <= latest:
            raise ValidationError(f"L'année doit être comprise entre {earliest.year} et {latest.year}.")
        if field.data > latest:
            raise ValidationError(
                f"L'opération doit commencer au plus tard le {latest:%d/%m/%Y}, "
                f"{OPERATION_START_MONTHS_AFTER_CLOSING} mois après la clôture de l'appel."
            )
        if field.data < earliest:
            raise ValidationError(
                f"L'opération doit commencer au plus tôt le {earliest:%d/%m/%Y} : elle dure au plus 36 mois "
                f"et doit être en cours à l'ouverture de l'appel, le {opening:%d/%m/%Y}."
            )

    def validate_end_date(self, field: DateField) -> None:
        end = field.data
        earliest, latest, opening = operation_window(self.call)
        if end is not None and self.call is None and not earliest <= end <= latest:
            raise ValidationError(f"L'année doit être comprise entre {earliest.year} et {latest.year}.")
        if end is not None and self.call is not None and end <= opening:
            raise ValidationError(
                "Une opération achevée avant l'appel ne peut pas être retenue : la fin doit être postérieure "
                f"au {opening:%d/%m/%Y}, date d'ouverture de l'appel."
            )
        # A bound, not the period rule (12 to 36 months, judged at submission): no operation the
        # call can take ends later than 36 months after the latest start it allows.
        last_end = _add_months(latest, 36)
        if end is not None and self.call is not None and end > last_end:
            raise ValidationError(
                f"L'opération dure de 12 à 36 mois et commence au plus tard le {latest:%d/%m/%Y} : elle "
                f"s'achève au plus tard le {last_end:%d/%m/%Y}."
            )

    @staticmethod
    def period_problem(start: date | None, end: date | None) -> str | None:
        """What is wrong with the operation's period for submission (12 to 36 months), if
        anything; a section saves with it, ``missing_items`` reports it."""
        if not start or not end:
            return None
        months = (end.year - start.year) * 12 + (end.month - start.month) + (1 if end.day >= start.day else 0)
        if end <= start:
            return "La fin de l'opération doit être postérieure à son début."
        if not 12 <= months <= 36:
            return f"L'opération doit durer de 12 à 36 mois (ici {months} mois)."
        return None

    def to_content(self) -> dict[str, Any]:
        return {
            "title": (self.title.data or "").strip(),
            "summary": (self.summary.data or "").strip(),
            "start_date": self.start_date.data.isoformat() if self.start_date.data else None,
            "end_date": self.end_date.data.isoformat() if self.end_date.data else None,
        }


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TerritoriesForm(SectionForm):
    qpv_codes = MultiCheckboxField("QPV concernés", validate_choice=True)

    def __init__(self, *args: Any, qpv_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.qpv_codes.choices = choices(qpv_choices)

    def to_content(self) -> dict[str, Any]:
        return {"qpv_codes": sorted(set(self.qpv_codes.data or []))}


def _count(label: str, description: str | None = None) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), Needed(), NumberRange(min=0, max=1_000_000, message="Un nombre entier positif.")],
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
    age_min = IntegerField("Âge minimum", validators=[Optional(), Needed(), NumberRange(16, 29, "Entre 16 et 29 ans.")])
    age_max = IntegerField("Âge maximum", validators=[Optional(), Needed(), NumberRange(16, 29, "Entre 16 et 29 ans.")],
                           description="29 ans pour les jeunes reconnus travailleurs handicapés (RQTH).")
    cej_qpv_share_current = FrenchDecimalField(
        "Part des jeunes QPV dans vos entrées en CEJ aujourd'hui (%)", places=1,
        validators=[Optional(), Needed()], minimum=Decimal(0), maximum=Decimal(100),
    )
    cej_qpv_share_target = FrenchDecimalField(
        "Part visée à l'issue de l'opération (%)", places=1, validators=[Optional(), Needed()],
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
    """A post line checked whole, on the officer's instruction form (retained values)."""

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


class DraftPostForm(PostForm):
    """A post line of the applicant's draft: saved as typed (only malformed values are
    refused); an incomplete line stays out of the plan and ``missing_items`` names it; an
    investment line is saved and blocks submission through its finding."""

    label = StringField("Intitulé du poste", validators=[Optional(), Needed(), Length(max=200)])
    category = SelectField("Nature de la dépense", choices=choices(POST_CATEGORIES), default="staff")
    annual_cost = FrenchDecimalField("Coût annuel chargé (€)", validators=[Optional(), Needed()], minimum=Decimal(0),
                                     maximum=Decimal("9999999.99"))
    fte = FrenchDecimalField("Quotité (ETP)", places=2, validators=[Optional(), Needed()],
                             minimum=Decimal("0.01"), maximum=Decimal(1))
    months = IntegerField("Mois", validators=[Optional(), Needed(), NumberRange(1, 48, "Entre 1 et 48 mois.")],
                          render_kw={"inputmode": "numeric"})

    def validate(self, extra_validators: Any = None) -> bool:
        return SubForm.validate(self, extra_validators)


FUNDING_STATUS = [("acquired", "Acquis"), ("requested", "Sollicité")]


class CofinancingForm(SubForm):
    funder = StringField("Financeur", validators=[Optional(), Needed(), Length(max=200)])
    amount = FrenchDecimalField("Montant (€)", validators=[Optional(), Needed()], minimum=Decimal(0),
                                maximum=Decimal("99999999.99"))
    status = SelectField("Statut", choices=choices(FUNDING_STATUS), default="requested")

    def is_blank(self) -> bool:
        return not (self.funder.data or "").strip() and not (self.amount.raw_data and self.amount.raw_data[0].strip())


# Rows of a strand's lists, each added or removed in the page (static/app.js), or without
# JavaScript by a submit button that shows the form again with one row more or less.
ROW_LISTS = {"posts": (DraftPostForm, "Ajouter un poste"), "cofinancing": (CofinancingForm, "Ajouter un cofinancement")}


class StrandResourcesForm(SubForm):
    posts = FieldList(FormField(DraftPostForm), label="Poste", min_entries=1)
    cofinancing = FieldList(FormField(CofinancingForm), label="Cofinancement", min_entries=1)
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
                # An empty list starts with one row to fill; « Ajouter » gives more.
                "posts": posts or [blank_post],
                "cofinancing": cofinancing or [blank_cofi],
                "requested": _to_decimal(raw.get("requested")),
            }
        return data

    def row_list(self, name: str) -> FieldList | None:
        """``reperage-posts`` → that FieldList, for the add and remove buttons."""
        strand, _, rows = name.partition("-")
        if strand not in STRANDS or rows not in ROW_LISTS:
            return None
        return getattr(getattr(self, strand).form, rows)

    def add_row(self, name: str) -> str | None:
        """One blank row more in the list ``name``; the new row's first field id."""
        rows = self.row_list(name)
        if rows is None:
            return None
        entry = rows.append_entry()
        first = next(iter(entry.form))
        first.render_kw = {**(first.render_kw or {}), "autofocus": True}  # where the person goes on typing
        return first.id

    def remove_row(self, name: str) -> str | None:
        """Drop the row ``reperage-posts-2`` (its id) from the form shown again; the name
        of its list (``reperage-posts``), or None when there is no such row."""
        list_name = name.rpartition("-")[0]
        rows = self.row_list(list_name)
        if rows is None:
            return None
        kept = [entry for entry in rows.entries if entry.id != name]
        if len(kept) == len(rows.entries):
            return None
        rows.entries = kept
        return list_name

    def to_content(self) -> dict[str, Any]:
        content: dict[str, Any] = {}
        for strand in STRANDS:
            sub = getattr(self, strand).form
            content[strand] = {
                "posts": [
                    {
                        "label": (row.form.label.data or "").strip(),
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
                        "funder": (row.form.funder.data or "").strip(),
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
    signatory_name = StringField("Nom du signataire", validators=[Optional(), Needed(), Length(max=200)])
    signatory_quality = StringField(
        "Qualité du signataire", validators=[Optional(), Needed(), Length(max=200)],
        description="Représentant légal ou personne mandatée (joindre la délibération ou le mandat).",
    )
    sworn = BooleanField(
        "J'atteste sur l'honneur l'exactitude des informations de ce dossier, la régularité de la "
        "situation fiscale et sociale de la structure, et que l'opération n'est pas achevée à la date du dépôt.",
    )


class UploadForm(BaseForm):
    """The pièces of a dossier, joined in one sending: one file input per type of pièce
    (built by :func:`upload_form` for the types the applicant may join now)."""

    #: ``(type code, field)`` of each file input, in the order of the call's list.
    file_fields: list[tuple[str, Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.file_fields = [(code, self[f"file_{code}"]) for code in self.type_codes]

    type_codes: tuple[str, ...] = ()

    def chosen(self) -> list[tuple[str, Any, Any]]:
        """``(type code, field, uploaded file)`` of every file chosen, in the page's order."""
        found = []
        for code, field in self.file_fields:
            uploads = field.data if isinstance(field.data, list) else [field.data]
            found += [(code, field, upload) for upload in uploads if upload is not None and upload.filename]
        return found


def upload_form(types: list[dict[str, str]], several: set[str]) -> type[UploadForm]:
    """An :class:`UploadForm` with a file input for each of ``types``; the types of
    ``several`` (optional pièces that hold several files) take several files at once."""
    fields = {
        f"file_{t['code']}": (MultipleFileField if t["code"] in several else FileField)(t["label"])
        for t in types
    }
    return type("AttachmentsForm", (UploadForm,), {**fields, "type_codes": tuple(t["code"] for t in types)})


class ConfirmForm(BaseForm):
    """An empty form: a POST with its CSRF token, for confirmations."""


class WithdrawForm(BaseForm):
    confirm = BooleanField("Je confirme le retrait de ce dossier", validators=[DataRequired("Cochez la case pour confirmer le retrait.")])
