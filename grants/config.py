"""Configuration read from environment variables, with safe development defaults."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

INSTANCE_DIR = Path(os.environ.get("GRANTS_INSTANCE_DIR", Path.cwd() / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class ConfigError(RuntimeError):
    """The configuration is unsafe for the requested mode."""


DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105  (public on purpose: refused in production)
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
MIN_SECRET_KEY_LENGTH = 32
# Values that are public (this repository, its tests, its documentation): a key anybody can
# read signs sessions and reset links anybody can forge.
KNOWN_SECRET_KEYS = frozenset({
    DEVELOPMENT_SECRET_KEY, "test-secret-key", "browser-tests-secret", "maintenance-tests-secret",
    "bench-in-process", "change-me", "changeme", "secret", "secret-key", "your-secret-key",
})
# Loopback names accepted in development besides the base URL's host (``make run`` serves on
# 127.0.0.1, a developer may type localhost).
DEVELOPMENT_HOSTS = ("localhost", "127.0.0.1")


def secret_key_problem(secret: str | None) -> str | None:
    """Why ``secret`` cannot sign production sessions and links, in French, or None."""
    if not secret:
        return "SECRET_KEY est obligatoire en production (GRANTS_ENV=production)"
    if secret in KNOWN_SECRET_KEYS:
        return "SECRET_KEY est une valeur de développement connue de tous"
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        return f"SECRET_KEY est trop courte ({len(secret)} caractères, au moins {MIN_SECRET_KEY_LENGTH} attendus)"
    if len(set(secret)) < 8:
        return "SECRET_KEY n'est pas aléatoire (moins de 8 caractères différents)"
    return None


def base_url_problem(url: str | None) -> str | None:
    """Why ``url`` cannot be the production public address, in French, or None."""
    if not url:
        return "GRANTS_BASE_URL est obligatoire en production (GRANTS_ENV=production)"
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return f"GRANTS_BASE_URL doit être une adresse https://… en production (reçu : {url!r})"
    if parts.query or parts.fragment:
        return f"GRANTS_BASE_URL ne doit contenir ni « ? » ni « # » (reçu : {url!r})"
    return None


def _host_list(value: str | None) -> list[str]:
    return [host.strip().lower() for host in (value or "").split(",") if host.strip()]


def trusted_hosts(base_url: str, extra: list[str] | tuple[str, ...] = (), *, development: bool = False) -> list[str]:
    """The ``Host`` values the application answers: the public address's host, the extra ones
    (``GRANTS_TRUSTED_HOSTS``; a leading dot accepts every subdomain) and, in development, the
    loopback names. Any other host gets a 400 (Flask's ``TRUSTED_HOSTS``)."""
    hosts = [urlsplit(base_url).hostname or "", *extra, *(DEVELOPMENT_HOSTS if development else ())]
    unique: list[str] = []
    for host in hosts:
        if host and host not in unique:
            unique.append(host)
    return unique


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} doit être un nombre entier (reçu : {value!r}).") from None


def from_environment() -> dict:
    """Build the Flask configuration mapping from the process environment.

    Production (``GRANTS_ENV=production``) refuses to start with a missing, short or public
    ``SECRET_KEY`` or without an https ``GRANTS_BASE_URL``: every e-mailed link is built
    from that address, never from the request."""
    production = os.environ.get("GRANTS_ENV", "development") == "production"
    secret = os.environ.get("SECRET_KEY")
    base_url = (os.environ.get("GRANTS_BASE_URL") or "").strip()
    if production:
        problems = [p for p in (secret_key_problem(secret), base_url_problem(base_url)) if p]
        if problems:
            raise ConfigError(
                " ; ".join(problems) + ". Définissez SECRET_KEY (une valeur aléatoire d'au moins "
                f"{MIN_SECRET_KEY_LENGTH} caractères, par exemple `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`) et GRANTS_BASE_URL (l'adresse publique, "
                "https://…) : voir README, « Production deployment »."
            )
    trusted_proxies = _int("GRANTS_TRUSTED_PROXIES", 0)
    if not 0 <= trusted_proxies <= 5:
        raise ConfigError("GRANTS_TRUSTED_PROXIES : nombre de mandataires inverses devant l'application, de 0 à 5.")
    return {
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": secret or DEVELOPMENT_SECRET_KEY,
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'grants.sqlite3'}"
        ),
        "GRANTS_STORAGE_DIR": os.environ.get("GRANTS_STORAGE_DIR", str(INSTANCE_DIR / "storage")),
        "GRANTS_QPV_FILE": os.environ.get("GRANTS_QPV_FILE"),
        "GRANTS_BASE_URL": base_url or DEVELOPMENT_BASE_URL,
        # Hosts answered besides the base URL's (TRUSTED_HOSTS is derived from both in create_app).
        "GRANTS_TRUSTED_HOSTS": _host_list(os.environ.get("GRANTS_TRUSTED_HOSTS")),
        # How many reverse proxies stand in front of the application: their X-Forwarded-For /
        # -Proto / -Host entries are believed (Werkzeug's ProxyFix), no more. 0: none.
        "GRANTS_TRUSTED_PROXIES": trusted_proxies,
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
        # Failed attempts (wrong password) per client address, whatever the accounts tried.
        "RATELIMIT_LOGIN_FAILURES": os.environ.get("RATELIMIT_LOGIN_FAILURES", "50 per hour"),
        # E-mails the registration and reset forms send to one address, whoever asks.
        "RATELIMIT_PER_ADDRESS": os.environ.get("RATELIMIT_PER_ADDRESS", "5 per hour"),
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Argon2 parameters: library defaults in production, cheap ones only in tests.
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(os.environ.get("ARGON2_MEMORY_COST", "65536")),
        "PASSWORD_RESET_MAX_AGE": 3600,
        # How long the link that confirms a registration's e-mail address stays valid.
        "REGISTRATION_MAX_HOURS": 48,
        # Failed password checks of an account before its slowdown: from then on, a browser the
        # account never logged in from may try once per delay, which doubles from
        # LOGIN_DELAY_FIRST_SECONDS up to LOGIN_DELAY_MAX_SECONDS; the owner's known browsers
        # are never refused (grants.security: known devices), so nobody can lock them out.
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_DELAY_FIRST_SECONDS": 60,
        "LOGIN_DELAY_MAX_SECONDS": 15 * 60,
        "KNOWN_DEVICE_DAYS": int(os.environ.get("GRANTS_KNOWN_DEVICE_DAYS", "180")),
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
