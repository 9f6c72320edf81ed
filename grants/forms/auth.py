from __future__ import annotations

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..models import STRUCTURE_KIND_TITLES, StructureKind
from ..security import password_problem
from .base import BaseForm, choices

REQUIRED = "Ce champ est obligatoire."


def _new_password_check(form: BaseForm, field: PasswordField) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class LoginForm(BaseForm):
    email = EmailField("Adresse électronique", validators=[DataRequired(REQUIRED)])
    password = PasswordField("Mot de passe", validators=[DataRequired(REQUIRED)])


class ConfirmPasswordForm(BaseForm):
    password = PasswordField("Mot de passe", validators=[DataRequired(REQUIRED)])


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        "Adresse électronique",
        validators=[DataRequired(REQUIRED), Email("Adresse électronique invalide.")],
    )


class ResetPasswordForm(BaseForm):
    password = PasswordField(
        "Nouveau mot de passe",
        validators=[DataRequired(REQUIRED), _new_password_check],
        description="12 caractères au minimum.",
    )
    confirm = PasswordField(
        "Confirmer le mot de passe",
        validators=[DataRequired(REQUIRED), EqualTo("password", "Les deux mots de passe diffèrent.")],
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField("Mot de passe actuel", validators=[DataRequired(REQUIRED)])


def clean_siret(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class SiretField(StringField):
    """A SIRET typed with or without spaces, checked (length and Luhn) by python-stdnum."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data:
            self.data = self.data.strip()

    def pre_validate(self, form: BaseForm) -> None:
        if not self.data:
            return
        digits = clean_siret(self.data)
        try:
            stdnum_siret.validate(digits)
        except StdnumError:
            raise ValidationError(
                "SIRET invalide : 14 chiffres attendus, dont une clé de contrôle exacte "
                "(vérifiez-le sur votre avis de situation SIRENE)."
            ) from None
        self.data = digits


class RegisterForm(BaseForm):
    full_name = StringField("Vos prénom et nom", validators=[DataRequired(REQUIRED), Length(max=200)])
    email = EmailField(
        "Adresse électronique professionnelle",
        validators=[DataRequired(REQUIRED), Email("Adresse électronique invalide."), Length(max=254)],
    )
    structure_name = StringField(
        "Nom de la structure porteuse", validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    siret = SiretField(
        "SIRET de la structure",
        validators=[DataRequired(REQUIRED)],
        description=(
            "14 chiffres. Si votre structure est déjà inscrite, un de ses membres (ou "
            "l'administrateur) doit accepter votre demande de rattachement avant que vous voyiez "
            "ses dossiers."
        ),
    )
    structure_kind = SelectField(
        "Type de structure",
        choices=choices((k.value, STRUCTURE_KIND_TITLES[k]) for k in StructureKind),
        validators=[DataRequired(REQUIRED)],
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired(REQUIRED), _new_password_check],
        description="12 caractères au minimum.",
    )
    confirm = PasswordField(
        "Confirmer le mot de passe",
        validators=[DataRequired(REQUIRED), EqualTo("password", "Les deux mots de passe diffèrent.")],
    )


class MembershipDecisionForm(BaseForm):
    """Approve or refuse a request to join a structure: the button pressed is the decision."""

    approve = SubmitField("Accepter")
    refuse = SubmitField("Refuser")

    def validate(self, extra_validators: object = None) -> bool:  # type: ignore[override]
        if not super().validate(extra_validators):  # type: ignore[arg-type]
            return False
        if bool(self.approve.data) == bool(self.refuse.data):
            self.form_errors.append("Choisissez d'accepter ou de refuser la demande.")
            return False
        return True
