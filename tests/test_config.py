"""Configuration: safe defaults, and production refuses to start unsafely."""

from __future__ import annotations

import pytest

from grants import create_app
from grants.config import ConfigError


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setenv("GRANTS_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY est obligatoire"):
        create_app()


def test_production_sets_secure_cookies_and_hsts(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("GRANTS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    app = create_app({"DATABASE_URL": database_url, "GRANTS_STORAGE_DIR": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/sante")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_development_defaults(monkeypatch):
    monkeypatch.delenv("GRANTS_ENV", raising=False)
    from grants.config import from_environment

    config = from_environment()
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["DATABASE_URL"].startswith("sqlite:///")
