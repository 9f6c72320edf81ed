"""Configuration read from environment variables, with safe development defaults."""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("GRANTS_INSTANCE_DIR", Path.cwd() / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class ConfigError(RuntimeError):
    """The configuration is unsafe for the requested mode."""


def from_environment() -> dict:
    """Build the Flask configuration mapping from the process environment."""
    production = os.environ.get("GRANTS_ENV", "development") == "production"
    secret = os.environ.get("SECRET_KEY")
    if production and not secret:
        raise ConfigError(
            "SECRET_KEY est obligatoire en production (GRANTS_ENV=production) : "
            "définissez une valeur aléatoire d'au moins 32 caractères."
        )
    return {
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": secret or "dev-only-not-secret",
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'grants.sqlite3'}"
        ),
        "GRANTS_STORAGE_DIR": os.environ.get("GRANTS_STORAGE_DIR", str(INSTANCE_DIR / "storage")),
        "GRANTS_QPV_FILE": os.environ.get("GRANTS_QPV_FILE"),
        "GRANTS_BASE_URL": os.environ.get("GRANTS_BASE_URL", "http://127.0.0.1:5000"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER"),
        # Without MAIL_SERVER, development writes each e-mail whole to this folder (.eml
        # files, readable by any mail client); the log only says where. None: log only.
        "MAIL_OUTBOX": os.environ.get("GRANTS_MAIL_OUTBOX") or (None if production else str(INSTANCE_DIR / "outbox")),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "Parcours QPV <ne-pas-repondre@dreets-hdf.example>"
        ),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_LOGIN": os.environ.get("RATELIMIT_LOGIN", "10 per minute"),
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Argon2 parameters: library defaults in production, cheap ones only in tests.
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(os.environ.get("ARGON2_MEMORY_COST", "65536")),
        "PASSWORD_RESET_MAX_AGE": 3600,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "SESSION_IDLE_MINUTES": int(os.environ.get("GRANTS_SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(os.environ.get("GRANTS_SESSION_MAX_HOURS", "12")),
        "PASSWORD_CONFIRM_MINUTES": int(os.environ.get("GRANTS_PASSWORD_CONFIRM_MINUTES", "10")),
        # The officer's home lists the dossiers waiting for their admissibility decision for
        # more than this many days (since their submission, or the complements they sent).
        "ADMISSIBILITY_ALERT_DAYS": int(os.environ.get("GRANTS_ADMISSIBILITY_ALERT_DAYS", "15")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("GRANTS_MAX_UPLOAD_MB", "10")) * 1024 * 1024 + 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        # A header the reverse proxy sets to when it received the request (see _note_arrival).
        "REQUEST_START_HEADER": os.environ.get("GRANTS_REQUEST_START_HEADER") or None,
        "REQUEST_START_MAX_WAIT": 120,
        # clamd's Unix socket (or tcp://host:port): uploads are scanned when it is set.
        "CLAMD_SOCKET": os.environ.get("GRANTS_CLAMD_SOCKET") or None,
        "CLAMD_TIMEOUT": float(os.environ.get("GRANTS_CLAMD_TIMEOUT", "30")),
    }
