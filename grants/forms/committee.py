"""Forms of the committee sessions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .base import BaseForm, choices
from .dossier import MultiCheckboxField
from .fields import FrenchDecimalField, ParisDateTimeField

REQUIRED = "Ce champ est obligatoire."


class SessionForm(BaseForm):
    meets_at = ParisDateTimeField("Date et heure de la séance (heure de Paris)", validators=[InputRequired(REQUIRED)])
    place = StringField("Lieu", validators=[DataRequired(REQUIRED), Length(max=300)])
    chair_name = StringField("Président(e) de séance", validators=[DataRequired(REQUIRED), Length(max=200)],
                             description="Le Préfet de région ou son représentant nommément désigné.")
    chair_quality = StringField("Qualité", validators=[DataRequired(REQUIRED), Length(max=200)],
                                default="Préfet de la région Hauts-de-France")
    members = MultiCheckboxField("Membres invités", coerce=int, validate_choice=True)

    def __init__(self, *args: Any, member_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members.choices = choices(member_choices)


class AttendanceForm(BaseForm):
    """Who attended a session: when it is marked held (every invited member checked by
    default), then corrected until the closing."""

    present = MultiCheckboxField("Membres invités présents", coerce=int, validate_choice=True,
                                 description="Décochez les membres excusés.")
    other_attendees = TextAreaField(
        "Autres participants (facultatif)", validators=[Optional(), Length(max=2000)],
        description="Une personne par ligne, avec sa qualité : par exemple « Mme X, DDETS du Nord ».",
    )

    def __init__(self, *args: Any, member_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.present.choices = choices(member_choices)


class AddItemForm(BaseForm):
    dossier_id = SelectField("Dossier instruit à inscrire", coerce=int, validators=[DataRequired(REQUIRED)])

    def __init__(self, *args: Any, dossier_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dossier_id.choices = choices(dossier_choices)


DECISIONS = [("selected", "Programmé"), ("rejected", "Rejeté"), ("deferred", "Ajourné")]


class DecisionForm(BaseForm):
    decision = RadioField("Décision du comité", choices=choices(DECISIONS), validators=[InputRequired(REQUIRED)])
    amount = FrenchDecimalField("Montant FSE+ programmé (€)", validators=[Optional()], minimum=Decimal("0.01"),
                                description="Par défaut : le maximum retenu à l'instruction.")
    motive = TextAreaField("Motif (obligatoire pour un rejet)", validators=[Optional(), Length(max=5000)])
