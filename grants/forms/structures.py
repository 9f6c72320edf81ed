"""Forms of DREETS staff's checks on a structure."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .auth import SiretField
from .base import BaseForm

REQUIRED = "Ce champ est obligatoire."


class VerifyStructureForm(BaseForm):
    note = TextAreaField(
        "Ce que vous avez vérifié (facultatif)", validators=[Optional(), Length(max=1000)],
        description="Par exemple : SIRET actif dans l'annuaire des entreprises, appel à la direction le 04/12.",
    )


class SiretChangeForm(BaseForm):
    siret = SiretField("Nouveau SIRET", validators=[DataRequired(REQUIRED)])
    motive = TextAreaField(
        "Motif de la modification", validators=[DataRequired(REQUIRED), Length(max=1000)],
        description="Communiqué par courriel aux membres de la structure.",
    )
