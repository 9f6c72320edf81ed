"""Outgoing e-mail through a real SMTP server (aiosmtpd on 127.0.0.1): French subjects
arrive as written, whatever their length, and attachments arrive whole."""

from __future__ import annotations

import pytest

from grants.mail import send_email

SUBJECTS = [
    "Le dossier AAP-QPV-DEMO-2026-0001 vous est attribué par Claire Instructrice",
    "Dossier AAP-QPV-DEMO-2026-0001 : décision d'irrecevabilité de votre dossier déposé le 26/03/2023",
    "Compléments demandés sur le dossier AAP-QPV-DEMO-2026-0001 « Aller vers les jeunes » — réponse attendue",
    "é" * 120,
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_accented_subjects_arrive_as_written(app, smtp_server, subject):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        send_email("porteur@ml-exemple.fr", subject, "email/password_reset.txt", user=None, link="https://x/y")
    [message] = smtp_server.messages
    assert message["Subject"] == f"[Parcours QPV] {subject}"


def test_attachments_arrive_whole(app, smtp_server):  # type: ignore[no-untyped-def]
    data = b"%PDF-1.4\n" + bytes(range(256)) * 40
    with app.test_request_context():
        send_email("porteur@ml-exemple.fr", "Lettre", "email/password_reset.txt",
                   attachments=[("lettre.pdf", data, "application/pdf")], user=None, link="https://x/y")
    [message] = smtp_server.messages
    [part] = list(message.iter_attachments())
    assert part.get_filename() == "lettre.pdf"
    assert part.get_content() == data
