"""Parcours QPV: the FSE+ call-for-projects application of DREETS Hauts-de-France."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, ValidationError

from . import config as config_module
from .extensions import csrf, db, limiter, login_manager

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory; ``config`` overrides the environment (tests use it)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_path=str(config_module.INSTANCE_DIR),
    )
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    if app.config.get("TRUSTED_HOSTS") is None:
        # Requests for any other host are refused (400): nothing is ever built from a Host
        # header the client chose (e-mailed links come from GRANTS_BASE_URL, grants.urls).
        app.config["TRUSTED_HOSTS"] = config_module.trusted_hosts(
            app.config["GRANTS_BASE_URL"], app.config.get("GRANTS_TRUSTED_HOSTS") or (),
            development=app.config["ENV_NAME"] != "production",
        )
    if proxies := app.config.get("GRANTS_TRUSTED_PROXIES"):
        # Behind N reverse proxies, the client is the address the outermost one saw: rate limits
        # and the audit trail key on it. Only N entries of X-Forwarded-For are believed, so a
        # client cannot choose its address by sending the header itself. The Host header is the
        # proxy's (``proxy_set_header Host $host``), checked against TRUSTED_HOSTS.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    # Ids above what an INTEGER column holds are no page (404), on every <int:…> route.
    app.url_map.converters["int"] = IdConverter
    # Flask-WTF's i18n needs Flask-Babel; our forms set WTForms' French locale themselves.
    app.config.setdefault("WTF_I18N_ENABLED", False)

    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    Path(app.config["GRANTS_STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    from . import formatting, security  # noqa: F401  (registers the user loader)

    formatting.register(app)
    app.before_request(_refuse_untrusted_host)  # before anything builds a URL
    app.before_request(_note_arrival)  # first: before anything that may wait
    security.register(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_security_headers(app)
    _register_template_globals(app)

    from .cli import grants_cli

    app.cli.add_command(grants_cli)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    # PDF rendering logs every step at INFO: keep only its warnings.
    for noisy in ("weasyprint", "fontTools", "pikepdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if app.config["ENV_NAME"] == "production" and not app.config.get("MAIL_SERVER"):
        app.logger.warning("MAIL_SERVER absent : aucun e-mail ne sera envoyé (accusés, notifications, "
                           "liens de réinitialisation du mot de passe).")
    return app


MAX_ID = 2**31 - 1  # primary keys and numbers are INTEGER columns (32 bits on PostgreSQL)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: 0 to 2³¹ − 1. A larger number names nothing (404), and
    never reaches the database, which cannot bind it (a 500 on SQLite past 2⁶³)."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> Any:
        if len(value) > len(str(MAX_ID)):
            raise ValidationError()  # also spares int() a number of thousands of digits
        return super().to_python(value)


UNTRUSTED_HOST_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Requête invalide</title></head>
<body><h1>Requête invalide</h1>
<p>Cette adresse ne correspond pas au service Parcours QPV. Utilisez le lien officiel du service.</p>
</body></html>
"""


def _refuse_untrusted_host() -> tuple[str, int, dict[str, str]] | None:
    """A request for a host outside TRUSTED_HOSTS: 400 with a plain French page. Flask only
    records the refusal and raises it after the other ``before_request`` functions, without a
    URL adapter, so no page of ours (every one builds URLs) could render it."""
    if isinstance(request.routing_exception, SecurityError):
        return UNTRUSTED_HOST_PAGE, 400, {"Content-Type": "text/html; charset=utf-8"}
    return None


def _note_arrival() -> None:
    """When the request reached the application: a submission that arrived before the
    closing is on time, even if it waited behind others (``g.received_at``).

    Behind a reverse proxy that stamps each request (``GRANTS_REQUEST_START_HEADER``, e.g.
    nginx's ``proxy_set_header X-Request-Start "t=${msec}";``), the proxy's time counts: a
    request it received before the closing may wait for a free worker thread after it.
    The header is read only when configured (a browser could send one) and only when it
    lies within the last ``REQUEST_START_MAX_WAIT`` seconds."""
    from .models import utcnow

    now = g.received_at = utcnow()
    header = current_app.config.get("REQUEST_START_HEADER")
    if header and (stamped := proxy_arrival(request.headers.get(header, ""))) is not None:
        waited = (now - stamped).total_seconds()
        if 0 <= waited <= current_app.config["REQUEST_START_MAX_WAIT"]:
            g.received_at = stamped


def proxy_arrival(value: str) -> datetime | None:
    """``t=1733090674.123`` (or the bare number, in seconds since the epoch) → that instant."""
    try:
        seconds = float(value.strip().removeprefix("t="))
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .applicant import bp as applicant_bp
    from .auth import bp as auth_bp
    from .committee import bp as committee_bp
    from .dossiers import bp as dossiers_bp
    from .main import bp as main_bp
    from .officer import bp as officer_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(applicant_bp)
    app.register_blueprint(dossiers_bp)
    app.register_blueprint(officer_bp)
    app.register_blueprint(committee_bp)


ERROR_MESSAGES = {
    400: ("Requête invalide", "La requête n'a pas pu être traitée."),
    403: ("Accès refusé", "Vous n'avez pas les droits nécessaires pour accéder à cette page."),
    404: ("Page non trouvée", "La page que vous cherchez est introuvable ou n'existe plus."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible sur cette page."),
    409: ("Conflit", "Les données ont été modifiées entre-temps. Rechargez la page."),
    413: ("Fichier trop volumineux", "Le fichier ou le formulaire envoyé dépasse la taille autorisée."),
    429: (
        "Trop de tentatives",
        "Trop de tentatives en peu de temps. Patientez une minute avant de réessayer.",
    ),
    500: (
        "Erreur inattendue",
        "Une erreur est survenue de notre côté. Rien de ce que vous avez enregistré avant "
        "n'est perdu ; réessayez dans quelques instants.",
    ),
}


def error_page(code: int, detail: str | None = None) -> tuple[str, int]:
    """The French error page of ``code`` (a blueprint's own error handler falls back on it)."""
    title, text = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return error_page(
            400,
            "Le formulaire a expiré ou n'a pas été envoyé depuis cette application (jeton de "
            "sécurité absent ou invalide). Revenez en arrière, rechargez la page et recommencez.",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        return error_page(exc.code)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> tuple[str, int]:
        # The reset link's path is its token: log the route's pattern for such URLs.
        secret_in_path = request.url_rule is not None and "token" in (request.view_args or {})
        app.logger.exception("Unhandled error on %s", request.url_rule.rule if secret_in_path else request.path)
        db.session.rollback()
        return error_page(500)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):  # type: ignore[no-untyped-def]
        nonce = g.get("csp_nonce", "")
        script_src = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src {script_src}; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["ENV_NAME"] == "production":
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
            )
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _register_template_globals(app: Flask) -> None:
    from .forms.base import error_list
    from .forms.dossier import INDICATORS
    from .models import DossierState, Role
    from .security import csp_nonce

    from .dossier_sections import SECTIONS
    from .emblem import emblem
    from .models.calls import DEFAULT_REQUIRED_ATTACHMENTS
    from .operations.dossiers import OPTIONAL_ATTACHMENT_TYPES

    app.jinja_env.globals.update(
        csp_nonce=csp_nonce, error_list=error_list, eu_emblem=emblem, Role=Role, DossierState=DossierState, indicator_labels=INDICATORS,
        section_titles={s.key: s.title for s in SECTIONS},
        attachment_titles={t["code"]: t["label"] for t in [*DEFAULT_REQUIRED_ATTACHMENTS, *OPTIONAL_ATTACHMENT_TYPES]},
    )
