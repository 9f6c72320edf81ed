"""Issue 14, item 6: registering does not reveal whether an address has an account.

The form answers the same in both cases and the address receives a mail: the link that
creates the account, or a reminder that it has one. Nothing exists (no account, no
structure) until the owner of the address opens the link and activates the account."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from grants.extensions import limiter
from grants.models import RegistrationRequest, Structure, User
from tests.conftest import REGISTRATION_LINK_RE, register_through_email
from tests.views.test_no_enumeration import normalised

FORM = {
    "full_name": "Nadia Porteuse", "email": "nadia@ml-exemple.fr", "structure_name": "Mission locale de l'Exemple",
    "siret": "90010000900019", "structure_kind": "mission_locale",
    "password": "un-mot-de-passe-long", "confirm": "un-mot-de-passe-long",
}


def counts(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    db.session.remove()
    return (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Structure.id))))


def answer(client, email: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    response = client.post("/compte/inscription", data=FORM | {"email": email})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return response.status_code, response.headers["Location"], normalised(page, email)


def test_an_existing_and_a_new_address_get_the_same_answer_and_one_mail_each(app, client, db, users, smtp_server):
    before = counts(db)
    existing, new = users["officer"].email, "nouvelle@ml-exemple.fr"
    answers = [answer(app.test_client(), email) for email in (existing, new)]
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, "/compte/inscription/envoyee")
    assert "Un courriel vient d'être envoyé à EMAIL" in answers[0][2]
    assert counts(db) == before  # nothing exists yet, for either address
    reminder, link = smtp_server.messages
    assert (reminder["To"], link["To"]) == (existing, new)
    assert "déjà un compte" in reminder.get_content() and REGISTRATION_LINK_RE.search(reminder.get_content()) is None
    assert REGISTRATION_LINK_RE.search(link.get_content())


def test_the_link_creates_the_account_once_activated(client, db, smtp_server):
    response = register_through_email(client, FORM, smtp_server)
    assert response.headers["Location"] == "/"
    user = db.session.scalar(select(User).where(User.email == FORM["email"]))
    assert user.structure.siret == FORM["siret"] and user.full_name == "Nadia Porteuse"
    assert db.session.scalar(select(func.count(RegistrationRequest.id))) == 0
    assert "Appels à projets ouverts" in client.get("/").get_data(as_text=True)


def test_opening_the_link_creates_nothing_and_keeps_the_token_out_of_the_url(app, client, db, smtp_server):
    """A mail scanner that follows links (GET) activates nothing; the token leaves the URL."""
    before = counts(db)
    client.post("/compte/inscription", data=FORM)
    [mail] = smtp_server.messages
    link = REGISTRATION_LINK_RE.search(mail.get_content()).group(1)
    token = link.rsplit("/", 1)[1]
    scanner = app.test_client()
    opened = scanner.get(link, follow_redirects=True)
    assert opened.status_code == 200 and "Activer mon compte" in opened.get_data(as_text=True)
    assert token not in opened.get_data(as_text=True)
    assert counts(db) == before


def test_a_used_or_expired_link_is_refused(app, client, db, smtp_server):
    client.post("/compte/inscription", data=FORM)
    link = REGISTRATION_LINK_RE.search(smtp_server.messages[0].get_content()).group(1)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=app.config["REGISTRATION_MAX_HOURS"], minutes=1)):
        late = app.test_client().get(link)
    assert late.headers["Location"] == "/compte/inscription"
    client.get(link)
    assert client.post("/compte/inscription/confirmer", data={}).status_code == 302
    reused = app.test_client().get(link)
    assert reused.headers["Location"] == "/compte/inscription"
    assert "invalide, a déjà servi ou a expiré" in app.test_client().get(link, follow_redirects=True).get_data(as_text=True)


def test_two_registrations_of_one_address_make_one_account(app, client, db, smtp_server):
    first, second = app.test_client(), app.test_client()
    first.post("/compte/inscription", data=FORM)
    second.post("/compte/inscription", data=FORM | {"full_name": "Nadia (autre onglet)"})
    links = [REGISTRATION_LINK_RE.search(m.get_content()).group(1) for m in smtp_server.messages]
    second.get(links[1])
    assert second.post("/compte/inscription/confirmer", data={}).headers["Location"] == "/"
    # The first link is void now: the address has its account.
    assert first.get(links[0]).headers["Location"] == "/compte/inscription"
    assert db.session.scalar(select(func.count(User.id)).where(User.email == FORM["email"])) == 1


def test_an_unconfirmed_registration_holds_no_siret(app, client, db, smtp_server):
    """Someone registering a SIRET with an address they do not own blocks nobody."""
    app.test_client().post("/compte/inscription", data=FORM | {"email": "squatteur@ailleurs.example"})
    real = register_through_email(app.test_client(), FORM, smtp_server)
    assert real.headers["Location"] == "/"  # the structure's first (active) member
    assert db.session.scalar(select(User).where(User.email == FORM["email"])).is_pending_member is False


@pytest.fixture
def two_per_address(app):  # type: ignore[no-untyped-def]
    app.config["RATELIMIT_PER_ADDRESS"] = "2 per hour"
    limiter.reset()
    yield
    app.config["RATELIMIT_PER_ADDRESS"] = "100000 per hour"
    limiter.reset()


@pytest.mark.parametrize("path", ["/compte/inscription", "/compte/mot-de-passe-oublie"])
def test_mails_to_one_address_are_limited_whoever_asks(app, client, users, smtp_server, two_per_address, path):
    for email in (users["officer"].email, "personne@ml-exemple.fr"):
        codes = [app.test_client().post(path, data=FORM | {"email": email}).status_code for _ in range(3)]
        assert codes == [302, 302, 429], (email, codes)
    assert len(smtp_server.messages) <= 4


def test_the_confirmation_mail_links_to_the_configured_address(app, client, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "GRANTS_BASE_URL", "https://parcours-qpv.dreets-hdf.example")
    client.post("/compte/inscription", data=FORM)
    assert re.search(r"https://parcours-qpv\.dreets-hdf\.example/compte/inscription/confirmer/\S+",
                     smtp_server.messages[0].get_content())
