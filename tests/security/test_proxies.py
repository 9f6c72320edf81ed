"""Issue 14, item 2: behind the reverse proxy the README prescribes, each client has its own
rate-limit bucket and the audit trail records its address, not the proxy's.

``GRANTS_TRUSTED_PROXIES=1``: the application believes the one ``X-Forwarded-For`` entry
its proxy appends (Werkzeug's ``ProxyFix``), never the ones a client sends itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from grants import create_app
from grants.extensions import limiter
from grants.models import AuditEntry
from tests.conftest import CSRF_RE, PASSWORD, CsrfClient, app_test_config

PROXY = "10.0.0.2"  # the reverse proxy, as the application's socket sees it
ALICE, BOB = "203.0.113.5", "198.51.100.7"


@pytest.fixture
def proxied_app(database_url: str, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The application as deployed behind one proxy, on the suite's database. Created before
    the ``db`` fixture binds the session (a new app replaces the engine): ask for it first."""
    application = create_app(app_test_config(database_url, str(tmp_path)) | {
        "GRANTS_TRUSTED_PROXIES": 1, "RATELIMIT_LOGIN": "3 per minute",
    })
    application.test_client_class = CsrfClient
    limiter.reset()
    yield application
    limiter.reset()


def through_proxy(app: Flask, forwarded_for: str, *, proxy: str = PROXY) -> CsrfClient:
    """A client whose requests reach the application through the proxy, which appended
    ``forwarded_for`` (what a client sent comes before it)."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded_for, HTTP_X_FORWARDED_PROTO="https",
                               # over https, Flask-WTF checks that a form comes from this site
                               HTTP_REFERER="https://localhost/compte/connexion")
    return client  # type: ignore[return-value]


def bad_logins(client: CsrfClient, count: int) -> list[int]:
    page = client.get("/compte/connexion").get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match
    token = match.group(1) or match.group(2)
    return [
        client.post("/compte/connexion", csrf=False, data={
            "email": "personne@exemple.fr", "password": "pas-le-bon-mot-de-passe", "csrf_token": token,
        }).status_code
        for _ in range(count)
    ]


def test_the_proxy_is_wrapped_with_the_configured_number_of_hops(proxied_app):
    assert isinstance(proxied_app.wsgi_app, ProxyFix)
    assert (proxied_app.wsgi_app.x_for, proxied_app.wsgi_app.x_proto) == (1, 1)


def test_each_client_behind_the_proxy_has_its_own_login_bucket(proxied_app):
    assert bad_logins(through_proxy(proxied_app, ALICE), 4)[-1] == 429
    # Bob comes through the same proxy: Alice's attempts do not block him.
    assert 429 not in bad_logins(through_proxy(proxied_app, BOB), 3)


def test_a_forwarded_for_sent_by_the_client_itself_is_not_believed(proxied_app):
    assert bad_logins(through_proxy(proxied_app, ALICE), 4)[-1] == 429
    # Alice claims to be Bob: the proxy appends her real address, the only entry believed.
    assert bad_logins(through_proxy(proxied_app, f"{BOB}, {ALICE}"), 1) == [429]


def test_the_audit_trail_records_the_clients_address(proxied_app, db, users):
    client = through_proxy(proxied_app, f"192.0.2.99, {ALICE}")
    assert client.post("/compte/connexion", data={"email": users["officer"].email, "password": PASSWORD}).status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.login").order_by(AuditEntry.id.desc()))
    assert entry.ip == ALICE


def test_without_a_configured_proxy_forwarded_headers_are_ignored(app, client, db, users):
    """The default (no proxy): a client cannot choose the address its attempts count against."""
    client.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=ALICE)
    assert client.post("/compte/connexion", data={"email": users["officer"].email, "password": PASSWORD}).status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.login").order_by(AuditEntry.id.desc()))
    assert entry.ip == "127.0.0.1"
