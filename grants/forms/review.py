"""Forms of the officer's work on a dossier."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from wtforms import (
    DateField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..finance import STRANDS
from ..formatting import decimal_text, money_text, number
from ..models import ComplementRequest
from .base import BaseForm, choices
from .dossier import MultiCheckboxField, PostForm, SubForm, _decimal_text, _to_decimal
from .fields import PARIS, FrenchDecimalField

REQUIRED = "Ce champ est obligatoire."
VERDICTS = [("pass", "Satisfait"), ("fail", "Non satisfait")]


def checklist_form(criteria: list[dict[str, Any]], answers: dict[str, Any], formdata: Any = None) -> BaseForm:
    """A form with, per criterion of the call, a verdict and a comment."""

    class ChecklistForm(BaseForm):
        motive = TextAreaField(
            "Motif (obligatoire pour une irrecevabilité, notifié au porteur)",
            validators=[Optional(), Length(max=5000)],
        )

    for criterion in criteria:
        code = criterion["code"]
        setattr(ChecklistForm, f"value_{code}", RadioField(criterion["label"], choices=choices(VERDICTS),
                                                           validators=[Optional()]))
        setattr(ChecklistForm, f"comment_{code}", StringField("Commentaire", validators=[Optional(), Length(max=1000)]))
    data = {}
    for code, answer in (answers or {}).items():
        data[f"value_{code}"] = answer.get("value")
        data[f"comment_{code}"] = answer.get("comment", "")
    form = ChecklistForm(formdata=formdata, data=data) if formdata is not None else ChecklistForm(data=data)
    form.criteria = criteria  # type: ignore[attr-defined]
    return form


def checklist_answers(form: BaseForm) -> dict[str, dict[str, Any]]:
    return {
        c["code"]: {
            "value": getattr(form, f"value_{c['code']}").data or None,
            "comment": getattr(form, f"comment_{c['code']}").data or "",
        }
        for c in form.criteria  # type: ignore[attr-defined]
    }


class ComplementRequestForm(BaseForm):
    sections = MultiCheckboxField("Sections à compléter", validate_choice=True)
    attachment_types = MultiCheckboxField("Pièces à fournir ou remplacer", validate_choice=True)
    message = TextAreaField("Message au porteur", validators=[InputRequired(REQUIRED), Length(max=5000)],
                            description="Précisez ce qui manque ou doit être corrigé.")
    due_date = DateField("Échéance", validators=[InputRequired(REQUIRED)],
                         description="Par défaut 10 jours ouvrés (jours fériés exclus).")

    def __init__(self, *args: Any, section_choices: list[tuple[str, str]], type_choices: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sections.choices = choices(section_choices)
        self.attachment_types.choices = choices(type_choices)

    def validate_sections(self, field: MultiCheckboxField) -> None:
        # The operation refuses it too; here it is told with the other errors of the form.
        if not (field.data or self.attachment_types.data):
            raise ValidationError("Choisissez au moins une section ou une pièce à compléter.")

    def validate_due_date(self, field: DateField) -> None:
        # The rule is the request's (the operation checks it again); here, next to the field.
        if field.data is not None:
            today = datetime.now(PARIS).date()
            if (problem := ComplementRequest.due_date_problem(field.data, today)) is not None:
                raise ValidationError(problem)


class RetainedStrandForm(SubForm):
    nb_jeunes_qpv = IntegerField("Jeunes QPV retenus", validators=[InputRequired(REQUIRED), NumberRange(0, 1_000_000)])
    posts = FieldList(FormField(PostForm), min_entries=1)
    other_cofinancing = FrenchDecimalField("Autres cofinancements retenus (€)", validators=[Optional()],
                                           minimum=Decimal(0), maximum=Decimal("99999999.99"))
    requested = FrenchDecimalField("FSE+ sollicité (€)", validators=[Optional()], minimum=Decimal(0),
                                   maximum=Decimal("99999999.99"), description="Laisser vide : pas de plafond.")


OPINIONS = [("favourable", "Favorable"), ("reserved", "Réservé"), ("unfavourable", "Défavorable")]


class InstructionForm(BaseForm):
    reperage = FormField(RetainedStrandForm, label="Volet repérage")
    sortie_emploi = FormField(RetainedStrandForm, label="Volet sortie vers l'emploi")
    opinion = RadioField("Avis du service instructeur", choices=choices(OPINIONS),
                         validators=[InputRequired(REQUIRED)])
    opinion_text = TextAreaField("Motivation de l'avis", validators=[Optional(), Length(max=10000)],
                                 description="Obligatoire pour clore l'instruction.")

    def __init__(self, *args: Any, requested: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """``requested``: the strands of the submitted plan's input (``finance["input"]["strands"]``
        of the latest version); each retained field then says what was asked beside it."""
        super().__init__(*args, **kwargs)
        for strand in STRANDS if requested else ():
            self._show_requested(getattr(self, strand).form, requested.get(strand) or {})  # type: ignore[union-attr]

    @staticmethod
    def _show_requested(sub: Any, asked: dict[str, Any]) -> None:
        def hint(field: Any, value: str) -> None:
            field.description = " ".join(filter(None, (f"Demandé : {value}.", field.description)))

        hint(sub.nb_jeunes_qpv, number(asked.get("nb_jeunes_qpv") or 0))
        posts = asked.get("posts") or []
        for index, row in enumerate(sub.posts):
            if index >= len(posts):
                break
            post = posts[index]
            hint(row.form.label, f"« {post.get('label') or '—'} »")
            hint(row.form.annual_cost, money_text(post.get("annual_cost")))
            hint(row.form.fte, decimal_text(post.get("fte")))
            hint(row.form.months, number(post.get("months")))
        hint(sub.other_cofinancing, money_text(asked.get("other_cofinancing")))
        asked_fse = asked.get("requested")
        hint(sub.requested, money_text(asked_fse) if asked_fse not in (None, "") else "aucun montant")

    @staticmethod
    def data_from_retained(retained: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        public, resources = retained.get("public") or {}, retained.get("resources") or {}
        for strand in STRANDS:
            declared = resources.get(strand) or {}
            other = sum((Decimal(c["amount"]) for c in declared.get("cofinancing", [])), Decimal("0.00"))
            posts = [
                {**p, "annual_cost": _to_decimal(p.get("annual_cost")), "fte": _to_decimal(p.get("fte"))}
                for p in declared.get("posts", [])
            ]
            data[strand] = {
                "nb_jeunes_qpv": (public.get(strand) or {}).get("nb_jeunes_qpv", 0),
                "posts": posts + [{"label": "", "category": "staff", "annual_cost": None, "fte": None, "months": None}],
                "other_cofinancing": other,
                "requested": _to_decimal(declared.get("requested")),
            }
        return data

    def to_retained(self, base: dict[str, Any]) -> dict[str, Any]:
        public = dict(base.get("public") or {})
        resources: dict[str, Any] = {}
        for strand in STRANDS:
            sub = getattr(self, strand).form
            public[strand] = {**(public.get(strand) or {}), "nb_jeunes_qpv": sub.nb_jeunes_qpv.data}
            other = sub.other_cofinancing.data
            resources[strand] = {
                "posts": [
                    {"label": r.form.label.data.strip(), "category": r.form.category.data,
                     "annual_cost": _decimal_text(r.form.annual_cost.data), "fte": _decimal_text(r.form.fte.data),
                     "months": r.form.months.data}
                    for r in sub.posts if not r.form.is_blank()
                ],
                "cofinancing": [{"funder": "Autres cofinancements retenus", "amount": _decimal_text(other),
                                 "status": "acquired"}] if other else [],
                "requested": _decimal_text(sub.requested.data),
            }
        return {"public": public, "resources": resources}


class ReopenForm(BaseForm):
    motive = TextAreaField("Motif de la réouverture", validators=[InputRequired(REQUIRED), Length(max=5000)],
                           description="Consigné dans l'historique du dossier.")
