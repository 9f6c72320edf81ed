"""Configuration: safe defaults, and production refuses to start unsafely."""

from __future__ import annotations

import secrets

import pytest

from grants import create_app
from grants.config import ConfigError


STRONG_KEY = secrets.token_urlsafe(48)
PUBLIC_ADDRESS = "https://parcours-qpv.dreets-hdf.example"


@pytest.fixture
def production(monkeypatch):  # type: ignore[no-untyped-def]
    """GRANTS_ENV=production with a sound key and public address (each test spoils one)."""
    monkeypatch.setenv("GRANTS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("GRANTS_BASE_URL", PUBLIC_ADDRESS)
    for name in ("GRANTS_TRUSTED_HOSTS", "GRANTS_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_refuses_to_start_without_secret_key(production):
    production.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY est obligatoire"):
        create_app()


@pytest.mark.parametrize(("key", "reason"), [
    ("x", "trop courte"),
    ("dev-only-not-secret", "valeur de développement"),
    ("test-secret-key", "valeur de développement"),
    ("x" * 40, "pas aléatoire"),
    ("abcd" * 10, "pas aléatoire"),
    (STRONG_KEY[:31], "trop courte"),
])
def test_production_refuses_a_short_or_public_secret_key(production, key, reason):
    production.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match=reason):
        create_app()


@pytest.mark.parametrize(("url", "reason"), [
    (None, "GRANTS_BASE_URL est obligatoire"),
    ("", "GRANTS_BASE_URL est obligatoire"),
    ("http://parcours-qpv.dreets-hdf.example", "https"),
    ("parcours-qpv.dreets-hdf.example", "https"),
    ("https://", "https"),
    ("https://parcours-qpv.example/?next=x", "ne doit contenir ni"),
])
def test_production_refuses_to_start_without_an_https_base_url(production, url, reason):
    if url is None:
        production.delenv("GRANTS_BASE_URL")
    else:
        production.setenv("GRANTS_BASE_URL", url)
    with pytest.raises(ConfigError, match=reason):
        create_app()


def test_production_trusts_only_the_public_host_and_the_listed_ones(production, database_url, tmp_path):
    production.setenv("GRANTS_TRUSTED_HOSTS", "parcours-qpv.interne.example, .dreets.example")
    app = create_app({"DATABASE_URL": database_url, "GRANTS_STORAGE_DIR": str(tmp_path)})
    assert app.config["TRUSTED_HOSTS"] == [
        "parcours-qpv.dreets-hdf.example", "parcours-qpv.interne.example", ".dreets.example",
    ]
    client = app.test_client()
    for host, status in (("parcours-qpv.dreets-hdf.example", 200), ("parcours-qpv.interne.example", 200),
                         ("agents.dreets.example", 200), ("localhost", 400), ("127.0.0.1", 400),
                         ("parcours-qpv.dreets-hdf.example.evil.example", 400)):
        assert client.get("/sante", base_url=f"https://{host}").status_code == status, host


def test_development_serves_the_loopback_names(monkeypatch, database_url, tmp_path):
    monkeypatch.delenv("GRANTS_ENV", raising=False)
    monkeypatch.delenv("GRANTS_BASE_URL", raising=False)
    app = create_app({"DATABASE_URL": database_url, "GRANTS_STORAGE_DIR": str(tmp_path)})
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert app.test_client().get("/sante", base_url="http://127.0.0.1:5101").status_code == 200
    assert app.test_client().get("/sante", base_url="http://evil.example:5101").status_code == 400


@pytest.mark.parametrize("value", ["deux", "-1", "9"])
def test_trusted_proxies_must_be_a_small_number(production, value):
    production.setenv("GRANTS_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigError, match="GRANTS_TRUSTED_PROXIES"):
        create_app()


def test_production_sets_secure_cookies_and_hsts(production, database_url, tmp_path):
    app = create_app({"DATABASE_URL": database_url, "GRANTS_STORAGE_DIR": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/sante", base_url=PUBLIC_ADDRESS)
    assert response.status_code == 200
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_development_defaults(monkeypatch):
    monkeypatch.delenv("GRANTS_ENV", raising=False)
    from grants.config import from_environment

    config = from_environment()
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["DATABASE_URL"].startswith("sqlite:///")
