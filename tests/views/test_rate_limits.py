"""Every form that takes a password or sends an e-mail to an address is rate limited per
client address (RATELIMIT_LOGIN), with a French page once the limit is reached."""

from __future__ import annotations

import pytest

from grants.extensions import limiter
from grants.operations.accounts import make_reset_token
from tests.conftest import open_reset_link


@pytest.fixture
def three_per_minute(app):  # type: ignore[no-untyped-def]
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    limiter.reset()
    yield
    app.config["RATELIMIT_LOGIN"] = "10000 per minute"
    limiter.reset()


def posts(client, path: str, data: dict[str, str], count: int = 4) -> list[int]:  # type: ignore[no-untyped-def]
    return [client.post(path, data=dict(data), csrf_from=path).status_code for _ in range(count)]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/compte/connexion", {"email": "personne@exemple.fr", "password": "pas-le-bon-mot-de-passe"}),
        ("/compte/inscription", {"email": "x@exemple.fr", "full_name": "X", "siret": "123", "password": "court"}),
        ("/compte/mot-de-passe-oublie", {"email": "personne@exemple.fr"}),
    ],
)
def test_anonymous_forms_are_rate_limited(client, three_per_minute, path, data):  # type: ignore[no-untyped-def]
    codes = posts(client, path, data)
    assert 429 not in codes[:3], codes
    assert codes[3] == 429
    page = client.post(path, data=dict(data), csrf_from=path)
    assert page.status_code == 429 and "Trop de tentatives" in page.get_data(as_text=True)


def test_reset_link_is_rate_limited(app, client, users, three_per_minute):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        token = make_reset_token(users["applicant"])
    path = open_reset_link(client, f"/compte/reinitialiser/{token}")
    codes = posts(client, path, {"password": "court", "confirm": "court"})
    assert codes[3] == 429, codes


def test_password_confirmation_is_rate_limited(client, login_as, users, three_per_minute):  # type: ignore[no-untyped-def]
    login_as(users["admin"])
    codes = posts(client, "/compte/confirmation", {"password": "pas-le-bon-mot-de-passe"})
    assert codes[3] == 429, codes
