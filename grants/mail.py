"""Outgoing e-mail: real SMTP when MAIL_SERVER is set; otherwise, in development, each
message is written whole to MAIL_OUTBOX (an .eml file) and the log says where."""

from __future__ import annotations

import email.policy
import os
import secrets
import smtplib
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template


Attachment = tuple[str, bytes, str]  # file name, content, MIME type
HEADERS_POLICY = email.policy.default.clone(max_line_length=998)


def send_email(
    to: list[str] | str, subject: str, template: str, *, attachments: Sequence[Attachment] = (),
    **context: object,
) -> EmailMessage:
    """Render ``template`` (plain text, French) and send it to ``to``, with ``attachments``."""
    recipients = [to] if isinstance(to, str) else list(to)
    # Folding at 78 columns drops or doubles the spaces around accented words of a subject
    # (CPython's encoded-word folding): fold only at 998, the limit of RFC 5322.
    message = EmailMessage(policy=HEADERS_POLICY)
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
        # Recipient and subject only in the log, never the body: it may carry a password-reset
        # link, and a link in a log is as good as the password itself.
        outbox = current_app.config.get("MAIL_OUTBOX")
        written = f" — écrit dans {write_to_outbox(message, Path(outbox))}" if outbox else ""
        current_app.logger.info(
            "E-mail (non envoyé, MAIL_SERVER absent) à %s : %s%s%s", message["To"], message["Subject"],
            f" ({len(attachments)} pièce(s) jointe(s))" if attachments else "", written,
        )
        return message
    with smtplib.SMTP(server, current_app.config["MAIL_PORT"], timeout=10) as smtp:
        if current_app.config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if current_app.config.get("MAIL_USERNAME"):
            smtp.login(current_app.config["MAIL_USERNAME"], current_app.config["MAIL_PASSWORD"])
        smtp.send_message(message)
    return message


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write ``message`` as ``<UTC time>-<random>.eml`` in ``outbox``, readable by its owner only."""
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}.eml"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(message.as_bytes())
    return path
