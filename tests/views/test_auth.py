"""Login, logout, registration, password change and reset, as a user goes through them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from grants.extensions import limiter
from grants.models import AuditEntry, Role, Structure, User

from tests.conftest import PASSWORD, open_reset_link, register_through_email

GENERIC = "Adresse électronique ou mot de passe incorrect"


def login(client, email, password=PASSWORD):
    return client.post("/compte/connexion", data={"email": email, "password": password})


def test_login_success_redirects_home_and_audits(client, db, users):
    response = login(client, users["officer"].email.upper())  # e-mail is case-insensitive
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert users["officer"].full_name in page
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == users["officer"].id)
    ).all()
    assert "user.login" in actions


def test_wrong_password_and_unknown_email_give_the_same_message(client, users):
    wrong = login(client, users["officer"].email, "mauvais-mot-de-passe")
    unknown = login(client, "personne@exemple.fr", "mauvais-mot-de-passe")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert GENERIC in response.get_data(as_text=True)
    # the typed address is kept in the form
    assert 'value="personne@exemple.fr"' in unknown.get_data(as_text=True)


def test_after_five_failures_a_new_browser_waits_even_with_the_right_password(app, client, db, users):
    """The slowdown (issue 14, item 3; tests/security/test_login_slowdown.py has the rest)."""
    user = users["applicant"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert GENERIC in login(client, user.email, "mauvais-mot-de-passe").get_data(as_text=True)
    assert db.session.get(User, user.id).locked_until is not None
    slowed = login(client, user.email)
    assert GENERIC in slowed.get_data(as_text=True)
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=app.config["LOGIN_DELAY_FIRST_SECONDS"] + 1)):
        assert login(client, user.email).status_code == 302


def test_login_is_rate_limited(app, client, users):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    try:
        codes = [login(client, users["officer"].email, "faux").status_code for _ in range(4)]
    finally:
        app.config["RATELIMIT_LOGIN"] = "10000 per minute"
        limiter.reset()
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429


def test_open_redirect_is_refused(client, users):
    response = client.post(
        "/compte/connexion?next=https://evil.example/",
        data={"email": users["officer"].email, "password": PASSWORD},
        csrf_from="/compte/connexion",
    )
    assert response.headers["Location"] == "/"


def test_logout_invalidates_the_old_cookie(app, client, users):
    login(client, users["officer"].email)
    cookie = client.get_cookie("session").value
    assert client.post("/compte/deconnexion", csrf_from="/").status_code == 302
    # Replay the old session cookie in a fresh client: it must be refused.
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.get("/admin/appels")
    assert response.status_code == 302
    assert "/compte/connexion" in response.headers["Location"]
    assert replay.get("/").status_code == 302


def test_change_password_closes_other_sessions(app, client, db, users):
    user = users["officer"]
    other = app.test_client_class(app, app.response_class, use_cookies=True)
    login(other, user.email)
    login(client, user.email)
    response = client.post(
        "/compte/mot-de-passe",
        data={"current_password": PASSWORD, "password": "un-nouveau-mot-de-passe", "confirm": "un-nouveau-mot-de-passe"},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this browser stays logged in
    assert other.get("/").status_code == 302  # the other one is logged out
    assert login(client.application.test_client(), user.email, "un-nouveau-mot-de-passe").status_code == 302


def test_change_password_with_wrong_current_password_keeps_input(client, users):
    login(client, users["officer"].email)
    response = client.post(
        "/compte/mot-de-passe",
        data={"current_password": "faux", "password": "un-nouveau-mot-de-passe", "confirm": "un-nouveau-mot-de-passe"},
    )
    assert response.status_code == 200
    assert "Mot de passe actuel incorrect" in response.get_data(as_text=True)


def test_password_too_short_is_refused_in_french(client, users):
    login(client, users["officer"].email)
    response = client.post(
        "/compte/mot-de-passe",
        data={"current_password": PASSWORD, "password": "court", "confirm": "court"},
    )
    assert "au moins 12 caractères" in response.get_data(as_text=True)


def _reset_link(message) -> str:
    body = message.get_content()
    match = re.search(r"http://localhost(/compte/reinitialiser/\S+)", body)
    assert match, body
    return match.group(1)


def test_password_reset_by_email_link(client, users, smtp_server):
    user = users["applicant"]
    response = client.post("/compte/mot-de-passe-oublie", data={"email": user.email})
    assert response.status_code == 302
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == user.email
    assert "Réinitialisation" in message["Subject"]
    link = _reset_link(message)
    form = open_reset_link(client, link)
    response = client.post(form, data={"password": "mon-nouveau-secret-1", "confirm": "mon-nouveau-secret-1"})
    assert response.status_code == 302
    assert login(client, user.email, "mon-nouveau-secret-1").status_code == 302
    # The link is single-use: the password hash it was tied to has changed.
    client.post("/compte/deconnexion", csrf_from="/")
    reused = client.get(link)
    assert reused.status_code == 302
    assert "/compte/mot-de-passe-oublie" in reused.headers["Location"]


def test_password_reset_link_expires_after_one_hour(client, users, smtp_server):
    client.post("/compte/mot-de-passe-oublie", data={"email": users["officer"].email})
    link = _reset_link(smtp_server.messages[0])
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        response = client.get(link)
    assert response.status_code == 302
    assert "mot-de-passe-oublie" in response.headers["Location"]


def test_password_reset_does_not_reveal_unknown_addresses(client, smtp_server):
    response = client.post("/compte/mot-de-passe-oublie", data={"email": "inconnu@exemple.fr"}, follow_redirects=True)
    assert "Si un compte correspond à cette adresse" in response.get_data(as_text=True)
    assert smtp_server.messages == []


REGISTRATION = {
    "full_name": "Nadia Porteuse",
    "email": "nadia@ml-exemple.fr",
    "structure_name": "Mission locale de l'Exemple",
    "siret": "900 100 009 00019",
    "structure_kind": "mission_locale",
    "password": "un-mot-de-passe-long",
    "confirm": "un-mot-de-passe-long",
}


def test_register_creates_structure_and_logs_in(client, db, smtp_server):
    response = register_through_email(client, REGISTRATION, smtp_server)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nadia@ml-exemple.fr"))
    assert user.role is Role.applicant
    assert user.structure.siret == "90010000900019"
    assert "Appels à projets ouverts" in client.get("/").get_data(as_text=True)


def test_second_person_of_a_structure_asks_to_join_it_and_a_member_approves(client, app, db, smtp_server):
    """A SIRET is public: the second person is a pending member until the first approves."""
    register_through_email(client, REGISTRATION, smtp_server)
    second = app.test_client()
    response = register_through_email(
        second,
        REGISTRATION | {"email": "paul@ml-exemple.fr", "full_name": "Paul Collègue", "structure_name": "autre nom"},
        smtp_server,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/compte/rattachement-en-attente"
    structures = db.session.scalars(select(Structure).where(Structure.siret == "90010000900019")).all()
    assert len(structures) == 1 and structures[0].name == "Mission locale de l'Exemple"
    assert [u.email for u in structures[0].users] == ["nadia@ml-exemple.fr"]  # members only
    paul = db.session.scalar(select(User).where(User.email == "paul@ml-exemple.fr"))
    assert paul.structure_id == structures[0].id and paul.is_pending_member
    assert "en attente" in second.get("/", follow_redirects=True).get_data(as_text=True)

    page = client.get("/porteur/structure").get_data(as_text=True)
    assert "Paul Collègue" in page and "paul@ml-exemple.fr" in page
    decided = client.post(f"/porteur/structure/demandes/{paul.id}", data={"approve": "Accepter"})
    assert decided.status_code == 302
    db.session.remove()
    structure = db.session.get(Structure, structures[0].id)
    assert sorted(u.email for u in structure.users) == ["nadia@ml-exemple.fr", "paul@ml-exemple.fr"]
    assert "Appels à projets ouverts" in second.get("/").get_data(as_text=True)


def test_register_with_invalid_siret_keeps_input_and_explains(client, db):
    response = client.post("/compte/inscription", data=REGISTRATION | {"siret": "90010000900018"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "SIRET invalide" in page
    assert 'value="Mission locale de l&#39;Exemple"' in page
    assert 'value="nadia@ml-exemple.fr"' in page
    assert db.session.scalar(select(User).where(User.email == "nadia@ml-exemple.fr")) is None


def test_register_with_an_existing_email_answers_as_usual_and_tells_the_address(client, users, smtp_server):
    """Issue 14, item 6 (tests/security/test_registration.py has the rest)."""
    response = client.post("/compte/inscription", data=REGISTRATION | {"email": users["officer"].email})
    assert (response.status_code, response.headers["Location"]) == (302, "/compte/inscription/envoyee")
    [mail] = smtp_server.messages
    assert mail["To"] == users["officer"].email and "déjà un compte" in mail["Subject"]
