"""Outgoing e-mail: real SMTP when MAIL_SERVER is set; otherwise, in development, each
message is written whole to MAIL_OUTBOX (an .eml file) and the log says where.

Everything an e-mail quotes of what users typed (names of people and structures, project
titles) goes through :func:`user_text`: one line, short, links defused, so that a name
cannot carry a phishing paragraph to the members and admins who receive it. Views and
operations send after their commit through :func:`send_safely`: a failure of the mail
layer (SMTP down, a header it refuses) is logged and never turns a committed change into
an error page.
"""

from __future__ import annotations

import email.policy
import os
import re
import secrets
import smtplib
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template

Attachment = tuple[str, bytes, str]  # file name, content, MIME type
HEADERS_POLICY = email.policy.default.clone(max_line_length=998)
SUBJECT_MAX = 150
NAME_MAX = 80
TITLE_MAX = 120

# What mail clients turn into links: a scheme, "www.", a dot between a name and a
# top-level-domain-like word ("evil.example"), an e-mail address's "@".
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15}):(//)?")
_DOMAIN_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_]{2,})")


def one_line(value: object) -> str:
    """``value`` as text on one line: line breaks, tabs and other control or invisible
    formatting characters become single spaces (what a mail header may carry)."""
    text = "".join(
        " " if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char
        for char in str(value if value is not None else "")
    )
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def defuse_links(text: str) -> str:
    """``https://evil.example/x`` → ``https[:]//evil[.]example/x``: readable, never a link."""
    text = _SCHEME.sub(lambda m: f"{m.group(1)}[:]{m.group(2) or ''}" if m.group(2) or m.group(1).lower()
                       in ("mailto", "tel", "http", "https", "ftp", "javascript", "data") else m.group(0), text)
    text = _DOMAIN_DOT.sub("[.]", text)
    return text.replace("@", "[@]")


def user_text(value: object, limit: int = NAME_MAX) -> str:
    """What a user typed (a name, a title), as an e-mail quotes it: one line, at most
    ``limit`` characters, links defused. The templates put it between « »."""
    return shorten(defuse_links(one_line(value)), limit) or "—"


def header_text(value: object, limit: int = SUBJECT_MAX) -> str:
    """A header value: one line (a line break would end the header: injection), short."""
    return shorten(one_line(value), limit)


def send_email(
    to: list[str] | str, subject: str, template: str, *, attachments: Sequence[Attachment] = (),
    **context: object,
) -> EmailMessage:
    """Render ``template`` (plain text, French) and send it to ``to``, with ``attachments``."""
    recipients = [to] if isinstance(to, str) else list(to)
    # An address is one line; a stored one that is not (never through our forms) is left out.
    recipients = [address for address in recipients if address and one_line(address) == address]
    if not recipients:
        raise ValueError("no valid recipient")
    # Folding at 78 columns drops or doubles the spaces around accented words of a subject
    # (CPython's encoded-word folding): fold only at 998, the limit of RFC 5322.
    message = EmailMessage(policy=HEADERS_POLICY)
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join(recipients)
    message["Subject"] = header_text(f"[Parcours QPV] {subject}")
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


def send_safely(
    to: list[str] | str, subject: str, template: str, *, attachments: Sequence[Attachment] = (),
    **context: object,
) -> bool:
    """:func:`send_email`, for a change already committed: any failure (the SMTP server down
    or refusing, a header or template the mail layer rejects) is logged, without the body,
    and reported by returning False; it never reaches the user as an error page."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        return False
    try:
        send_email(recipients, subject, template, attachments=attachments, **context)
    except Exception:  # the change is committed: whatever failed here, it stays done
        current_app.logger.exception("e-mail %r to %d recipient(s) not sent", header_text(subject), len(recipients))
        return False
    return True


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write ``message`` as ``<UTC time>-<random>.eml`` in ``outbox``, readable by its owner only."""
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}.eml"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(message.as_bytes())
    return path
