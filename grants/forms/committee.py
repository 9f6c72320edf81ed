"""Forms of the committee sessions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from .base import BaseForm, choices
from .dossier import MultiCheckboxField
from .fields import PARIS, FrenchDecimalField, ParisDateTimeField

SESSION_YEARS_AFTER_CLOSING = 3

REQUIRED = "Ce champ est obligatoire."


class SessionForm(BaseForm):
    meets_at = ParisDateTimeField("Date et heure de la séance (heure de Paris)", validators=[InputRequired(REQUIRED)])
    place = StringField("Lieu", validators=[DataRequired(REQUIRED), Length(max=300)])
    chair_name = StringField("Président(e) de séance", validators=[DataRequired(REQUIRED), Length(max=200)],
                             description="Le Préfet de région ou son représentant nommément désigné.")
    chair_quality = StringField("Qualité", validators=[DataRequired(REQUIRED), Length(max=200)],
                                default="Préfet de la région Hauts-de-France")
    members = MultiCheckboxField("Membres invités", coerce=int, validate_choice=True)

    def __init__(self, *args: Any, member_choices: list[tuple[int, str]], call: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members.choices = choices(member_choices)
        self.call = call

    def validate_meets_at(self, field: ParisDateTimeField) -> None:
        """A session of the call's committee meets once the call is open, and within
        SESSION_YEARS_AFTER_CLOSING years of its closing."""
        if field.data is None or self.call is None:
            return
        opening = self.call.opens_at
        latest = self.call.closes_at + timedelta(days=366 * SESSION_YEARS_AFTER_CLOSING)
        if not opening <= field.data <= latest:
            raise ValidationError(
                f"La séance doit se tenir entre l'ouverture de l'appel, le {opening.astimezone(PARIS):%d/%m/%Y}, et le "
                f"{latest.astimezone(PARIS):%d/%m/%Y}, {SESSION_YEARS_AFTER_CLOSING} ans après sa clôture."
            )


class EditSessionForm(SessionForm):
    """A planned session's details changed; ``version`` detects a change made meanwhile."""

    version = HiddenField()


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


class HoldForm(AttendanceForm):
    """Marking a session held: its attendance and, for a session without invited members, the
    officer's confirmation that it was held without them (the server refuses it otherwise)."""

    without_members = BooleanField(
        "Je confirme que la séance s'est tenue sans membre du comité invité sur la plateforme",
        description="Ses participants figurent alors parmi les « autres participants » du procès-verbal.",
    )


class AddItemForm(BaseForm):
    dossier_id = SelectField("Dossier instruit à inscrire", coerce=int, validators=[DataRequired(REQUIRED)])

    def __init__(self, *args: Any, dossier_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dossier_id.choices = choices(dossier_choices)


DECISIONS = [("selected", "Programmé"), ("rejected", "Rejeté"), ("deferred", "Ajourné")]


class DecisionForm(BaseForm):
    """The committee's decision on one agenda item (a first one, or a correction of the one
    ``current`` names); several share the session page, each field's id names its item."""

    decision = RadioField("Décision du comité", choices=choices(DECISIONS), validators=[InputRequired(REQUIRED)])
    amount_reperage = FrenchDecimalField("FSE+ programmé — volet repérage (€)", validators=[Optional()],
                                         minimum=Decimal("0.00"))
    amount_sortie_emploi = FrenchDecimalField("FSE+ programmé — volet sortie vers l'emploi (€)",
                                              validators=[Optional()], minimum=Decimal("0.00"))
    motive = TextAreaField("Motif (obligatoire pour un rejet)", validators=[Optional(), Length(max=5000)])
    current = HiddenField()

    class Meta:
        # The page holds one form per item, all protected by the application's CSRF check
        # (grants.extensions.csrf) through the one token the page carries.
        csrf = False

    def __init__(self, *args: Any, item_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            field.id = f"item-{item_id}-{field.name}"

    def amounts(self) -> dict[str, Decimal | None] | None:
        """The amounts typed per strand, or None when both are blank (the retained figures)."""
        typed = {"reperage": self.amount_reperage.data, "sortie_emploi": self.amount_sortie_emploi.data}
        return None if all(value is None for value in typed.values()) else typed
