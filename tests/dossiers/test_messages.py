"""Messages between DREETS staff and a structure on a submitted dossier."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import func, select

from grants.models import AuditEntry, Dossier, Message, Role, Structure, User
from grants.operations import messages as ops
from grants.operations.dossiers import submit_dossier
from tests.conftest import SAMPLE_PDF

WHO = ["owner", "other_applicant", "officer", "committee", "admin", "anonymous"]
# A Windows executable named like a PDF: refused on its content.
FAKE_PDF_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture
def submitted(app, db, users, make_dossier, store):
    """A submitted dossier of ``users["applicant"]``'s structure."""
    dossier = make_dossier(users["applicant"])
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        applicant = db.session.get(User, users["applicant"].id)
        submit_dossier(dossier, applicant, store=store, expected_version=dossier.version)
        db.session.commit()
    return dossier


def thread(dossier_id: int) -> str:
    return f"/dossiers/{dossier_id}/messages"


def as_user(login_as, users, who):
    if who == "owner":
        login_as(users["applicant"])
    elif who != "anonymous":
        login_as(users[who])


def logout(client):
    assert client.post("/compte/deconnexion", csrf_from="/").status_code == 302


def messages_of(db, dossier_id: int) -> list[Message]:
    db.session.remove()
    return list(db.session.scalars(select(Message).where(Message.dossier_id == dossier_id).order_by(Message.id)))


def recipients(mail) -> set[str]:
    return {address.strip() for address in mail["To"].split(",")}


def body_text(mail) -> str:
    return mail.get_content()


# The exchange --------------------------------------------------------------------------------


def test_applicant_and_officer_exchange_with_read_state_and_emails(
    client, db, login_as, users, make_user, submitted, smtp_server
):
    applicant, officer, admin = users["applicant"], users["officer"], users["admin"]
    colleague = make_user(Role.applicant, structure=db.session.get(Structure, applicant.structure_id))
    make_user(Role.officer, is_active=False, email="parti@exemple.fr")
    url = thread(submitted.id)

    # The applicant writes; nobody is assigned, so every active staff user is told.
    login_as(applicant)
    response = client.post(url, data={"body": "Bonjour,\r\nle budget a-t-il besoin d'une annexe ?"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}#message-{messages_of(db, submitted.id)[0].id}")
    [first] = smtp_server.messages
    assert first["Subject"] == f"[Parcours QPV] Nouveau message sur le dossier {submitted.reference}"
    assert recipients(first) == {officer.email, admin.email}
    assert "> le budget a-t-il besoin d'une annexe ?" in body_text(first)
    assert f"http://localhost/dossiers/{submitted.id}/messages#message-" in body_text(first)

    page = client.get(url).get_data(as_text=True)
    assert "le budget a-t-il besoin d&#39;une annexe ?" in page
    assert "Non lu" in page  # the author sees the read state of their message
    [question] = messages_of(db, submitted.id)
    assert question.body == "Bonjour,\nle budget a-t-il besoin d'une annexe ?"
    assert question.from_staff is False and question.read_at is None
    logout(client)

    # The officer opens the thread: the applicant's message becomes read.
    login_as(officer)
    with client.application.test_request_context():
        assert ops.unread_count(db.session.get(Dossier, submitted.id), db.session.get(User, officer.id)) == 1
    page = client.get(url).get_data(as_text=True)
    assert "le budget a-t-il besoin" in page
    assert applicant.full_name in page and "Nouveau" in page
    assert "Non lu" not in page and "Lu le" not in page  # read state is for the author's side
    [question] = messages_of(db, submitted.id)
    assert question.read_at is not None
    with client.application.test_request_context():
        assert ops.unread_count(db.session.get(Dossier, submitted.id), db.session.get(User, officer.id)) == 0

    # The officer answers: every active user of the structure is told, nobody else.
    response = client.post(url, data={"body": "Oui, joignez l'annexe budgétaire."})
    assert response.status_code == 302
    second = smtp_server.messages[1]
    assert recipients(second) == {applicant.email, colleague.email}
    assert "> Oui, joignez l'annexe budgétaire." in body_text(second)
    page = client.get(url).get_data(as_text=True)
    assert "Nouveau" not in page
    assert "Non lu" in page  # the answer, not read yet by the structure
    logout(client)

    # The applicant opens the thread: the answer becomes read, the question shows as read.
    login_as(applicant)
    page = client.get(url).get_data(as_text=True)
    assert "Oui, joignez l&#39;annexe budgétaire." in page and "DREETS" in page
    assert "Lu le " in page and "Non lu" not in page
    question, answer = messages_of(db, submitted.id)
    assert answer.from_staff is True and answer.read_at is not None
    assert len(smtp_server.messages) == 2
    logout(client)

    login_as(admin)
    page = client.get(url).get_data(as_text=True)
    assert page.count("Lu le ") == 1  # staff's answer, read by the structure


def test_applicant_message_goes_to_the_assigned_officer_only(
    client, db, login_as, users, make_user, submitted, smtp_server
):
    assigned = make_user(Role.officer)
    dossier = db.session.get(Dossier, submitted.id)
    dossier.assigned_to_id = assigned.id
    db.session.commit()
    login_as(users["applicant"])
    assert client.post(thread(submitted.id), data={"body": "Une question."}).status_code == 302
    [mail] = smtp_server.messages
    assert recipients(mail) == {assigned.email}


def test_post_message_writes_an_audit_entry(app, db, users, submitted, store):
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        officer = db.session.get(User, users["officer"].id)
        message = ops.post_message(dossier, officer, "  Bonjour.  ", store=store, max_bytes=1024)
        assert message.body == "Bonjour." and message.from_staff is True
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "dossier.message").order_by(AuditEntry.id.desc())
        ).first()
        assert entry.object_type == "Dossier" and entry.object_id == dossier.id
        assert entry.actor_id == officer.id and entry.details["message_id"] == message.id


@pytest.mark.parametrize("who", ["committee", "other_applicant"])
def test_post_message_refused_to_who_may_not_message(app, db, users, submitted, store, who):
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        with pytest.raises(ops.MessageError):
            ops.post_message(dossier, db.session.get(User, users[who].id), "Bonjour", store=store, max_bytes=1024)
        assert ops.unread_count(dossier, db.session.get(User, users[who].id)) == 0
        assert ops.mark_thread_read(dossier, db.session.get(User, users[who].id)) == []


def test_messages_link_shows_the_unread_count(app, db, users, submitted, store):
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        applicant = db.session.get(User, users["applicant"].id)
        officer = db.session.get(User, users["officer"].id)
        for text in ("Premier", "Second"):
            ops.post_message(dossier, officer, text, store=store, max_bytes=1024)
        login_user(applicant)
        html = render_template("dossiers/_messages_link.html", dossier=dossier)
        assert f'href="/dossiers/{dossier.id}/messages"' in html
        assert "Messages (2 non lus)" in html
        ops.mark_thread_read(dossier, applicant)
        assert "Messages (0 non lu)" in render_template("dossiers/_messages_link.html", dossier=dossier)
        login_user(officer)
        assert "Messages (0 non lu)" in render_template("dossiers/_messages_link.html", dossier=dossier)
        login_user(db.session.get(User, users["committee"].id))
        assert render_template("dossiers/_messages_link.html", dossier=dossier).strip() == ""


def test_applicant_reaches_messages_from_home_and_dossier_page_with_unread_count(
    app, client, db, login_as, users, submitted, make_dossier, store
):
    """Issue 15, item 8: the applicant had no link to Messages but the e-mail's."""
    draft = make_dossier(users["applicant"], sections=("project",), attachments=False)
    with app.test_request_context():
        officer = db.session.get(User, users["officer"].id)
        for text in ("Premier", "Second"):
            ops.post_message(db.session.get(Dossier, submitted.id), officer, text, store=store, max_bytes=1024)
        db.session.commit()
    login_as(users["applicant"])
    link = f'href="/dossiers/{submitted.id}/messages"'
    home = client.get("/").get_data(as_text=True)
    assert link in home and "Messages (2 non lus)" in home
    assert f'href="/dossiers/{draft.id}/messages"' not in home  # a draft has no messages
    page = client.get(f"/porteur/dossiers/{submitted.id}").get_data(as_text=True)
    assert link in page and "Messages (2 non lus)" in page
    assert client.get(thread(submitted.id)).status_code == 200  # reading marks them read
    assert "Messages (0 non lu)" in client.get("/").get_data(as_text=True)
    assert "Messages (0 non lu)" in client.get(f"/porteur/dossiers/{submitted.id}").get_data(as_text=True)
    assert "/messages" not in client.get(f"/porteur/dossiers/{draft.id}").get_data(as_text=True)


# Attachments ---------------------------------------------------------------------------------


def test_message_with_a_pdf_downloads_as_attachment(client, db, login_as, users, submitted, make_dossier):
    login_as(users["applicant"])
    response = client.post(
        thread(submitted.id),
        data={"body": "Voici l'annexe.", "attachment": (BytesIO(SAMPLE_PDF), "annexe budgétaire.PDF")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    [message] = messages_of(db, submitted.id)
    assert (message.attachment_name, message.attachment_mime) == ("annexe budgétaire.pdf", "application/pdf")
    assert message.attachment_size == len(SAMPLE_PDF)
    link = f"/dossiers/{submitted.id}/messages/{message.id}/piece"
    assert link in client.get(thread(submitted.id)).get_data(as_text=True)
    logout(client)

    login_as(users["officer"])
    response = client.get(link)
    assert response.status_code == 200
    assert response.data == SAMPLE_PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "annexe%20budg%C3%A9taire.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    # Only through its own dossier, and only when there is a file.
    other = make_dossier(users["applicant"], sections=(), attachments=False)
    assert client.get(f"/dossiers/{other.id}/messages/{message.id}/piece").status_code == 404
    client.post(thread(submitted.id), data={"body": "Sans pièce."})
    plain = messages_of(db, submitted.id)[-1]
    assert client.get(f"/dossiers/{submitted.id}/messages/{plain.id}/piece").status_code == 404
    assert client.get(f"/dossiers/{submitted.id}/messages/999999/piece").status_code == 404


def test_renamed_executable_is_refused_and_the_text_is_kept(client, db, login_as, users, submitted, smtp_server):
    login_as(users["applicant"])
    response = client.post(
        thread(submitted.id),
        data={"body": "Mon texte à garder.", "attachment": (BytesIO(FAKE_PDF_EXE), "rapport.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "« rapport.pdf » refusé : Format de fichier non accepté" in page
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*Mon texte à garder\.</textarea>', page)
    assert 'class="fr-upload-group fr-upload-group--error"' in page
    assert 'aria-describedby="attachment-messages"' in page
    assert messages_of(db, submitted.id) == []
    assert smtp_server.messages == []


@pytest.mark.parametrize(("body", "error"), [
    ("", "Saisissez votre message."),
    ("   \r\n  ", "Saisissez votre message."),
    ("a" * 5001, "Le message ne doit pas dépasser 5 000 caractères."),
])
def test_invalid_body_is_refused(client, db, login_as, users, submitted, body, error):
    login_as(users["officer"])
    response = client.post(thread(submitted.id), data={"body": body})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p id="body-messages" class="fr-error-text">{error}</p>' in page
    assert 'aria-describedby="body-messages"' in page
    assert messages_of(db, submitted.id) == []


def test_a_body_of_exactly_5000_characters_with_line_breaks_is_accepted(client, db, login_as, users, submitted):
    login_as(users["officer"])
    body = ("a" * 99 + "\r\n") * 50  # 100 characters a line once line breaks count as one
    assert client.post(thread(submitted.id), data={"body": body}).status_code == 302
    [message] = messages_of(db, submitted.id)
    assert len(message.body) == 4999  # the final line break is trimmed


# Access ---------------------------------------------------------------------------------------

EXPECTED_GET = {"owner": 200, "other_applicant": 404, "officer": 200, "committee": 404, "admin": 200, "anonymous": 302}


@pytest.mark.parametrize("who", WHO)
def test_thread_access_matrix(client, db, login_as, users, submitted, who):
    as_user(login_as, users, who)
    response = client.get(thread(submitted.id))
    assert response.status_code == EXPECTED_GET[who]
    if who == "anonymous":
        assert "/compte/connexion" in response.headers["Location"]


@pytest.mark.parametrize("who", WHO)
def test_post_access_matrix(client, db, login_as, users, submitted, who):
    as_user(login_as, users, who)
    token_page = "/compte/connexion" if who == "anonymous" else "/"
    response = client.post(thread(submitted.id), data={"body": "Bonjour"}, csrf_from=token_page)
    expected = {"owner": 302, "officer": 302, "admin": 302}.get(who, EXPECTED_GET[who])
    assert response.status_code == expected
    if who == "anonymous":
        assert "/compte/connexion" in response.headers["Location"]
    else:
        assert len(messages_of(db, submitted.id)) == (1 if expected == 302 else 0)


@pytest.mark.parametrize("who", WHO)
def test_attachment_access_matrix(app, client, db, login_as, users, submitted, store, who):
    with app.test_request_context():
        message = ops.post_message(
            db.session.get(Dossier, submitted.id), db.session.get(User, users["officer"].id), "Pièce",
            ("piece.pdf", SAMPLE_PDF), store=store, max_bytes=1024 * 1024,
        )
        db.session.commit()
    as_user(login_as, users, who)
    response = client.get(f"/dossiers/{submitted.id}/messages/{message.id}/piece")
    assert response.status_code == EXPECTED_GET[who]


@pytest.mark.parametrize("who", ["owner", "officer", "admin"])
def test_a_draft_has_no_messages(client, db, login_as, users, make_dossier, who):
    draft = make_dossier(users["applicant"], sections=(), attachments=False)
    as_user(login_as, users, who)
    assert client.get(thread(draft.id)).status_code == 404
    assert client.post(thread(draft.id), data={"body": "Bonjour"}, csrf_from="/").status_code == 404
    assert db.session.scalar(select(func.count(Message.id)).where(Message.dossier_id == draft.id)) == 0


def test_post_without_csrf_token_is_refused(client, db, login_as, users, submitted):
    login_as(users["applicant"])
    response = client.post(thread(submitted.id), data={"body": "Bonjour"}, csrf=False)
    assert response.status_code == 400
    assert "jeton de sécurité" in response.get_data(as_text=True)
    assert messages_of(db, submitted.id) == []
