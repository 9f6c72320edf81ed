"""Outgoing e-mail: real SMTP when MAIL_SERVER is set, the log otherwise."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template


Attachment = tuple[str, bytes, str]  # file name, content, MIME type


def send_email(
    to: list[str] | str, subject: str, template: str, *, attachments: Sequence[Attachment] = (),
    **context: object,
) -> EmailMessage:
    """Render ``template`` (plain text, French) and send it to ``to``, with ``attachments``."""
    recipients = [to] if isinstance(to, str) else list(to)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"[Parcours QPV] {subject}"
    message["Message-ID"] = make_msgid(domain="parcours-qpv")
    message.set_content(render_template(template, **context))
    for filename, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    server = current_app.config.get("MAIL_SERVER")
    if not server:
        # Recipient and subject only, never the body: it may carry a password-reset link,
        # and a link in a log is as good as the password itself.
        current_app.logger.info(
            "E-mail (non envoyé, MAIL_SERVER absent) à %s : %s%s", message["To"], message["Subject"],
            f" ({len(attachments)} pièce(s) jointe(s))" if attachments else "",
        )
        return message
    with smtplib.SMTP(server, current_app.config["MAIL_PORT"], timeout=10) as smtp:
        if current_app.config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if current_app.config.get("MAIL_USERNAME"):
            smtp.login(current_app.config["MAIL_USERNAME"], current_app.config["MAIL_PASSWORD"])
        smtp.send_message(message)
    return message
