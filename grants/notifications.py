"""E-mails sent after a change is committed; a mail failure never undoes the change."""

from __future__ import annotations

import smtplib

from flask import current_app, url_for

from .mail import send_email
from .models import Dossier, DossierVersion


def _safely(recipients: list[str], subject: str, template: str, **context: object) -> None:
    if not recipients:
        return
    try:
        send_email(recipients, subject, template, **context)
    except (smtplib.SMTPException, OSError):
        current_app.logger.exception("e-mail %r to %s not sent", subject, recipients)


def notify_submission(dossier: Dossier, version: DossierVersion) -> None:
    """Tell every user of the structure that the dossier is submitted, with the receipt link."""
    recipients = [u.email for u in dossier.structure.users if u.is_active]
    _safely(
        recipients,
        f"Dossier {dossier.reference} déposé",
        "email/dossier_submitted.txt",
        dossier=dossier,
        version=version,
        link=url_for("applicant.show_dossier", dossier_id=dossier.id, _external=True),
        receipt=url_for("dossiers.download_receipt", dossier_id=dossier.id, number=version.number, _external=True),
    )
