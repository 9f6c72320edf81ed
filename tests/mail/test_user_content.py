"""Issue 14, items 7 and 13: what users typed reaches e-mails as quoted, short, one-line text
with its links defused, and no failure of the mail layer turns a committed change into a 500.

Read from a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.mail import defuse_links, header_text, one_line, user_text
from grants.models import AuditEntry, Role, Structure, User
from grants.models.users import MembershipState
from tests.conftest import free_port

PHISHING = (
    "Support DREETS : votre espace sera supprimé, validez-le sur https://dreets-hdf.evil.example/login "
    "ou écrivez à support@evil.example avant 24 h"
)


def body(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("typed", "quoted"), [
    ("Mission locale\r\nBcc: victime@exemple.fr", "Mission locale Bcc: victime[@]exemple[.]fr"),
    ("  Claire\tDupont\u202e  ", "Claire Dupont"),
    ("voir https://evil.example/x", "voir https[:]//evil[.]example/x"),
    ("www.evil.example", "www[.]evil[.]example"),
    ("M. Dupont, S.A. Lille", "M. Dupont, S.A. Lille"),
    ("", "—"),
])
def test_user_text_is_one_defused_line(typed, quoted):
    assert user_text(typed) == quoted


def test_user_text_is_short():
    text = user_text("A" * 500)
    assert len(text) == 80 and text.endswith("…")
    assert len(user_text(PHISHING, 120)) <= 120


def test_headers_are_one_line():
    assert header_text("Objet\r\nBcc: x@y.fr") == "Objet Bcc: x@y.fr"
    assert one_line("a\u2028b\x00c") == "a b c"
    assert "://" not in defuse_links("javascript:alert(1) http://x")


@pytest.fixture
def member_and_request(db, users, make_user):  # type: ignore[no-untyped-def]
    """users["applicant"]'s structure and a request to join it."""
    structure = db.session.get(Structure, users["applicant"].structure_id)
    requester = make_user(Role.applicant, structure=structure, membership=MembershipState.pending,
                          full_name="Paul Demandeur")
    return structure, requester


def test_a_line_break_in_a_structure_name_neither_breaks_the_decision_nor_loses_its_e_mail(
    client, db, login_as, users, member_and_request, smtp_server
):
    structure, requester = member_and_request
    login_as(users["applicant"])
    page = client.get("/porteur/structure").get_data(as_text=True)
    assert "Paul Demandeur" in page
    # A structure name with a line break (sent by hand: a browser's text input has none).
    structure = db.session.get(Structure, structure.id)
    structure.name = "Mission locale\r\nBcc: victime@exemple.fr"
    db.session.commit()
    response = client.post(f"/porteur/structure/demandes/{requester.id}", data={"approve": "Accepter"},
                           csrf_from="/porteur/structure")
    assert response.status_code == 302
    db.session.remove()
    assert db.session.get(User, requester.id).membership is MembershipState.active
    [mail] = smtp_server.messages
    assert mail["To"] == requester.email and mail["Bcc"] is None
    assert mail["Subject"] == (
        "[Parcours QPV] Votre demande de rattachement à « Mission locale Bcc: victime[@]exemple[.]fr » est acceptée"
    )


@pytest.fixture
def smtp_down(app, monkeypatch):  # type: ignore[no-untyped-def]
    """MAIL_SERVER points at a port where nothing listens: every send fails."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())


def test_a_mail_failure_never_turns_a_committed_decision_into_an_error(client, db, login_as, users,
                                                                      member_and_request, smtp_down):
    _, requester = member_and_request
    login_as(users["applicant"])
    response = client.post(f"/porteur/structure/demandes/{requester.id}", data={"refuse": "Refuser"},
                           csrf_from="/porteur/structure")
    assert response.status_code == 302
    db.session.remove()
    assert db.session.get(User, requester.id).membership is MembershipState.refused


def test_a_mail_failure_answers_the_reset_request_as_usual(client, users, smtp_down):
    """Same answer whether the address has an account (a mail is attempted) or not."""
    answers = [client.post("/compte/mot-de-passe-oublie", data={"email": email})
               for email in (users["officer"].email, "inconnu@exemple.fr")]
    assert [(a.status_code, a.headers["Location"]) for a in answers] == [(302, "/compte/connexion")] * 2


def test_a_mail_failure_after_creating_an_account_says_so(client, db, login_admin, smtp_down):
    login_admin()
    response = client.post("/admin/comptes/nouveau", data={
        "full_name": "Agent Nouveau", "email": "agent.nouveau@dreets.example", "role": "officer"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "le courriel n&#39;a pas pu être envoyé" in page
    assert db.session.scalar(select(User).where(User.email == "agent.nouveau@dreets.example")) is not None


def test_a_mail_failure_after_a_submission_keeps_the_submission(client, db, login_as, users, make_dossier,
                                                                smtp_down):
    from tests.views.test_applicant import submit

    dossier = make_dossier(users["applicant"])
    login_as(users["applicant"])
    response = submit(client, dossier.id)
    assert response.status_code == 302
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.submitted",
                                                      AuditEntry.object_id == dossier.id)) is not None


def test_a_phishing_name_reaches_the_members_quoted_short_and_without_links(db, app, users, make_user,
                                                                         member_and_request, smtp_server):
    from grants.auth.notifications import notify_membership_requested

    structure, _ = member_and_request
    requester = make_user(Role.applicant, structure=structure, membership=MembershipState.pending,
                          full_name=PHISHING[:200])
    with app.test_request_context():
        notify_membership_requested(db.session.get(User, requester.id))
    [mail] = smtp_server.messages
    text = body(mail)
    first_line = text.split("\n")[2]
    quoted = first_line[first_line.index("«") + 2: first_line.index("»") - 1]
    assert quoted.startswith("Support DREETS") and len(quoted) <= 80 and quoted.endswith("…")
    assert "https://" not in text.replace(app.config["GRANTS_BASE_URL"], "")
    assert "evil.example" not in text
