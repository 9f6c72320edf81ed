"""The form to write a message on a dossier: a text and an optional pièce jointe."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..operations.messages import MAX_BODY_LENGTH, normalise_newlines
from .base import BaseForm


class MessageForm(BaseForm):
    body = TextAreaField(
        "Votre message",
        validators=[
            DataRequired("Saisissez votre message."),
            Length(max=MAX_BODY_LENGTH, message="Le message ne doit pas dépasser 5 000 caractères."),
        ],
        filters=[normalise_newlines],
        description="5 000 caractères au plus.",
        render_kw={"maxlength": MAX_BODY_LENGTH},
    )
    attachment = FileField("Pièce jointe (facultative)")
