"""Issue 14, item 1: every e-mailed link comes from GRANTS_BASE_URL, never from the request's
``Host`` header, and a request for a host outside TRUSTED_HOSTS is refused (400, never 500).

The attack: ``GET /compte/mot-de-passe-oublie`` with ``Host: dreets-hdf.evil.example``, then
the form for a victim's address. Were the link built from the request, the victim's click
would hand a valid reset token to the attacker. The tests below let that host through
(``TRUSTED_HOSTS`` lifted, as a deployment that forgot it would) and read what the e-mails
carry, through a real SMTP server."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from grants.auth.notifications import notify_membership_decided, notify_membership_requested
from grants.models import Dossier, DossierVersion, Message, User
from grants.models.users import MembershipState
from grants.notifications import (
    notify_admissibility,
    notify_assignment,
    notify_complements_answered,
    notify_complements_requested,
    notify_decision,
    notify_reopened,
    notify_submission,
)
from grants.operations.messages import notify_message_posted
from tests.conftest import CSRF_RE, PASSWORD, SAMPLE_PDF

BASE_URL = "https://parcours-qpv.dreets-hdf.example"
EVIL = "dreets-hdf.evil.example"
URL = re.compile(r"https?://[^\s>»)]+")


@pytest.fixture
def public_address(app, monkeypatch):  # type: ignore[no-untyped-def]
    """The app's public address is BASE_URL; the attacker's host is let through (no TRUSTED_HOSTS)."""
    monkeypatch.setitem(app.config, "GRANTS_BASE_URL", BASE_URL)
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)
    return BASE_URL


def links(message) -> list[str]:  # type: ignore[no-untyped-def]
    return URL.findall(message.get_body(("plain",)).get_content())


def csrf_token(client, path: str, host: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path, base_url=f"http://{host}").get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, page[:500]
    return match.group(1) or match.group(2)


def test_reset_link_carries_the_configured_address_whatever_the_host_header(client, users, smtp_server,
                                                                             public_address):
    victim = users["admin"]
    path = "/compte/mot-de-passe-oublie"
    response = client.post(path, base_url=f"http://{EVIL}", csrf=False,
                           data={"email": victim.email, "csrf_token": csrf_token(client, path, EVIL)})
    assert response.status_code == 302
    [mail] = smtp_server.messages
    [link] = links(mail)
    assert link.startswith(f"{BASE_URL}/compte/reinitialiser/"), link
    assert EVIL not in mail.as_string()


def post_on(client, host: str, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """POST ``data`` to ``path`` on ``host``, with the CSRF token of that host's session."""
    return client.post(path, base_url=f"http://{host}", csrf=False,
                       data=data | {"csrf_token": csrf_token(client, path, host)})


def test_account_creation_link_carries_the_configured_address(client, db, users, smtp_server, public_address):
    assert post_on(client, EVIL, "/compte/connexion",
                   {"email": users["admin"].email, "password": PASSWORD}).status_code == 302
    assert post_on(client, EVIL, "/compte/confirmation", {"password": PASSWORD}).status_code == 302
    path = "/admin/comptes/nouveau"
    response = client.post(path, base_url=f"http://{EVIL}", csrf=False, data={
        "full_name": "Nouvelle Instructrice", "email": "nouvelle@dreets.example", "role": "officer",
        "csrf_token": csrf_token(client, path, EVIL),
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    [mail] = smtp_server.messages
    assert [link.split("/compte/")[0] for link in links(mail)] == [BASE_URL]


def test_every_notification_links_to_the_configured_address(app, db, users, make_user, make_submitted,
                                                            smtp_server, public_address, store):
    """Each e-mail the application sends, built while serving a request for the attacker's host."""
    from grants.operations import messages as message_ops

    dossier = make_submitted(users["applicant"])
    requester = make_user(structure=db.session.get(User, users["applicant"].id).structure,
                          membership=MembershipState.pending)
    with app.test_request_context("/", base_url=f"http://{EVIL}"):
        dossier = db.session.get(Dossier, dossier.id)
        version: DossierVersion = dossier.latest_version
        officer = db.session.get(User, users["officer"].id)
        message = message_ops.post_message(dossier, officer, "Bonjour.", ("note.pdf", SAMPLE_PDF), store=store,
                                           max_bytes=10 * 1024 * 1024)
        request = SimpleNamespace(sections=["project"], attachment_types=[], message="Précisez.",
                                  due_date=version.created_at.date())
        db.session.commit()
        senders = {
            "submission": lambda: notify_submission(dossier, version),
            "admissibility": lambda: notify_admissibility(dossier, "Motif.", SAMPLE_PDF),
            "decision": lambda: notify_decision(dossier, "selected", SAMPLE_PDF),
            "complements requested": lambda: notify_complements_requested(dossier, request),
            "complements answered": lambda: notify_complements_answered(dossier, version),
            "assignment": lambda: notify_assignment(dossier, officer, db.session.get(User, users["admin"].id)),
            "reopened": lambda: notify_reopened(dossier, "Motif."),
            "message": lambda: notify_message_posted(db.session.get(Message, message.id)),
            "membership requested": lambda: notify_membership_requested(db.session.get(User, requester.id)),
            "membership decided": lambda: notify_membership_decided(db.session.get(User, requester.id), approved=True),
        }
        for name, send in senders.items():
            before = len(smtp_server.messages)
            send()
            sent = smtp_server.messages[before:]
            assert sent, f"{name}: no e-mail"
            for mail in sent:
                found = links(mail)
                assert found, f"{name}: no link"
                assert all(link.startswith(f"{BASE_URL}/") for link in found), (name, found)
                assert EVIL not in mail.as_string(), name


@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:443", "localhost.evil.example", "127.0.0.1.nip.io"])
def test_a_request_for_another_host_is_refused_with_a_400(client, users, smtp_server, host):
    path = "/compte/mot-de-passe-oublie"
    page = client.get(path, base_url=f"http://{host}")
    assert page.status_code == 400
    assert "Requête invalide" in page.get_data(as_text=True)
    response = client.post(path, base_url=f"http://{host}", data={"email": users["admin"].email}, csrf=False)
    assert response.status_code == 400
    assert smtp_server.messages == []


def test_the_configured_host_and_the_test_clients_localhost_are_served(app, client):
    assert "localhost" in app.config["TRUSTED_HOSTS"]
    assert client.get("/compte/connexion").status_code == 200
    assert client.get("/compte/connexion", base_url="http://localhost:8080").status_code == 200


def test_a_refused_host_is_refused_before_any_page_code_runs(client, users, login_as):
    """Logged in (a cookie for this host) or not, any route, any method: the plain 400."""
    login_as(users["officer"])
    for method, path in (("GET", "/"), ("GET", "/instruction/appels/1/dossiers"), ("POST", "/compte/deconnexion"),
                         ("GET", "/does-not-exist"), ("GET", "/static/app.css")):
        response = client.open(path, method=method, base_url=f"http://{EVIL}")
        assert response.status_code == 400, (method, path)
        assert "Content-Security-Policy" in response.headers
