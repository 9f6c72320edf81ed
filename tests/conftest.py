"""Shared fixtures: a fresh database per run (migrated once), a rolled-back session per
test, a CSRF-aware test client, login helpers and factories.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set (a new database is created
on that server for the run and dropped afterwards).
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL

from grants import create_app
from grants.extensions import db as _db
from grants.migrate import upgrade
from grants.models import (
    DEFAULT_ADMISSIBILITY_CRITERIA,
    DEFAULT_REQUIRED_ATTACHMENTS,
    Call,
    Qpv,
    QpvCommune,
    QpvList,
    Role,
    Structure,
    StructureKind,
    StructureVerification,
    User,
)
from grants.operations.accounts import create_user

PASSWORD = "mot-de-passe-de-test-solide"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


# Databases -------------------------------------------------------------------------------


class FreshDatabases:
    """Creates throw-away databases: SQLite files, or PostgreSQL databases on TEST_DATABASE_URL."""

    def __init__(self, tmp_dir: Any) -> None:
        self.tmp_dir = tmp_dir
        self.server_url = os.environ.get("TEST_DATABASE_URL")
        self.created: list[str] = []
        self._counter = itertools.count()

    @property
    def is_postgresql(self) -> bool:
        return bool(self.server_url)

    def new(self, label: str) -> str:
        if not self.server_url:
            return f"sqlite:///{self.tmp_dir / f'{label}-{next(self._counter)}.sqlite3'}"
        url: URL = make_url(self.server_url)
        name = f"grants_{label}_{os.getpid()}_{secrets.token_hex(3)}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.server_url:
            return
        admin = create_engine(make_url(self.server_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def fresh_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshDatabases]:
    databases = FreshDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def database_url(fresh_databases: FreshDatabases) -> str:
    url = fresh_databases.new("suite")
    upgrade(url)
    return url


def app_test_config(database_url: str, storage_dir: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "GRANTS_STORAGE_DIR": storage_dir,
        "GRANTS_BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        "MAIL_SERVER": None,
        "MAIL_OUTBOX": None,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 256,
        "RATELIMIT_LOGIN": "10000 per minute",
        "RATELIMIT_LOGIN_FAILURES": "100000 per hour",
        "RATELIMIT_PER_ADDRESS": "100000 per hour",
    }




@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(app_test_config(database_url, str(tmp_path_factory.mktemp("storage"))))
    yield application
    if _db.engine is not None:
        _db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The session, bound to one connection whose transaction is rolled back after the test.

    Code under test commits freely: with ``join_transaction_mode="create_savepoint"`` a
    commit only releases a savepoint inside the outer transaction.
    No application context stays pushed during the test: Flask would reuse it for every
    test request, and ``g`` (CSRF token, logged-in user) would leak between requests.
    """
    connection = _db.engine.connect()
    transaction = connection.begin()
    _db.session.remove()
    _db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield _db
    finally:
        _db.session.remove()
        transaction.rollback()
        connection.close()
        _db.session.configure(bind=_db.engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def committed_database(app: Flask, fresh_databases: FreshDatabases) -> Iterator[Any]:
    """The app's session bound, for this test, to a fresh migrated database where commits are
    real: for tests that run several transactions at once (threads), which the rolled-back
    ``db`` fixture cannot host."""
    from grants.extensions import make_engine

    url = fresh_databases.new("committed")
    upgrade(url)
    previous = _db.engine
    _db.session.remove()
    _db.engine = make_engine(url)
    _db.session.configure(bind=_db.engine)
    try:
        yield _db
    finally:
        _db.session.remove()
        _db.engine.dispose()
        _db.engine = previous
        _db.session.configure(bind=previous)


# Client ---------------------------------------------------------------------------------


class CsrfClient(FlaskClient):
    """A test client that fetches the form's CSRF token first, as a browser would.

    Each request starts with a new database session, as in production; objects the test
    holds are detached afterwards (reload them with ``db.session.get``).
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _db.session.remove()
        return super().open(*args, **kwargs)

    def post(self, *args: Any, csrf_from: str | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        data = kwargs.get("data")
        if kwargs.pop("csrf", True) and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            if "csrf_token" not in data:
                page = self.get(csrf_from or args[0])
                match = CSRF_RE.search(page.get_data(as_text=True))
                if match is None:
                    page = self.get("/")
                    match = CSRF_RE.search(page.get_data(as_text=True))
                if match:
                    data["csrf_token"] = match.group(1) or match.group(2)
            kwargs["data"] = data
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    app.test_client_class = CsrfClient
    return app.test_client()


@pytest.fixture
def login_as(client: FlaskClient):  # type: ignore[no-untyped-def]
    def login(user: User, password: str = PASSWORD) -> Any:
        response = client.post(
            "/compte/connexion", data={"email": user.email, "password": password}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return login


@pytest.fixture
def confirm_password(client: FlaskClient):  # type: ignore[no-untyped-def]
    """Type the password again on /compte/confirmation, as admin actions require."""

    def confirm(password: str = PASSWORD) -> Any:
        response = client.post("/compte/confirmation", data={"password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return confirm


@pytest.fixture
def login_admin(login_as, confirm_password, users):  # type: ignore[no-untyped-def]
    """Log in as ``users["admin"]`` and confirm the password: admin actions are allowed."""

    def login() -> User:
        login_as(users["admin"])
        confirm_password()
        return users["admin"]

    return login


def open_reset_link(client: FlaskClient, link: str) -> str:
    """Follow an e-mailed ``/compte/reinitialiser/<token>`` link as a browser does: the token
    moves into the session and the browser lands on the form's URL, returned (no token in it)."""
    response = client.get(link)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"] == "/compte/reinitialiser"
    return response.headers["Location"]


REGISTRATION_LINK_RE = re.compile(r"https?://[^/\s]+(/compte/inscription/confirmer/\S+)")


def register_through_email(client: FlaskClient, data: dict[str, Any], mailbox: Mailbox) -> Any:
    """Register as a person does: the form, the link e-mailed to the address (taken out of
    ``mailbox``, so that a test reads only the mails that follow), the activation button.
    Returns the activation's response."""
    before = len(mailbox.messages)
    sent = client.post("/compte/inscription", data=data)
    assert (sent.status_code, sent.headers.get("Location")) == (302, "/compte/inscription/envoyee"), \
        sent.get_data(as_text=True)[:1000]
    [mail] = mailbox.messages[before:]
    del mailbox.messages[before]
    link = REGISTRATION_LINK_RE.search(mail.get_content())
    assert link, mail.get_content()
    opened = client.get(link.group(1))
    assert (opened.status_code, opened.headers["Location"]) == (302, "/compte/inscription/confirmer")
    return client.post("/compte/inscription/confirmer", data={})


# Factories ------------------------------------------------------------------------------

_sequence = itertools.count(1)


def _valid_siret(seed: int) -> str:
    from stdnum import luhn

    siren8 = f"8{seed:07d}"[-8:]
    siren = siren8 + luhn.calc_check_digit(siren8)
    base = siren + "0001"
    return base + luhn.calc_check_digit(base)


@pytest.fixture
def make_structure(db: Any):  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Structure:
        n = next(_sequence)
        values = {
            "name": f"Mission locale de test {n}",
            "siret": _valid_siret(n),
            "kind": StructureKind.mission_locale,
            "commune_insee": "59350",
            "commune_name": "Lille",
            "departement": "59",
            # As the demo's: verified by DREETS staff (tests of verification ask for to_verify).
            "verification": StructureVerification.verified,
            "verified_at": datetime.now(UTC),
        } | overrides
        structure = Structure(**values)
        db.session.add(structure)
        db.session.commit()  # releases a savepoint only: the test still rolls back
        return structure

    return make


@pytest.fixture
def make_user(app: Flask, db: Any, make_structure):  # type: ignore[no-untyped-def]
    def make(role: Role = Role.applicant, structure: Structure | None = None, **overrides: Any) -> User:
        n = next(_sequence)
        if role is Role.applicant and structure is None:
            structure = make_structure()
        with app.app_context():
            user = _create_user(role, structure, n, overrides)
        return user

    def _create_user(role: Role, structure: Structure | None, n: int, overrides: dict[str, Any]) -> User:
        user = create_user(
            email=overrides.pop("email", f"{role.value}{n}@exemple.fr"),
            full_name=overrides.pop("full_name", f"Personne {role.value} {n}"),
            role=role,
            password=overrides.pop("password", PASSWORD),
            structure=structure if role is Role.applicant else None,
        )
        for key, value in overrides.items():
            setattr(user, key, value)
        db.session.commit()  # releases a savepoint only: the test still rolls back
        return user

    return make


@pytest.fixture
def make_qpv_list(db: Any):  # type: ignore[no-untyped-def]
    def make(name: str | None = None) -> QpvList:
        from datetime import date

        qpv_list = QpvList(
            name=name or f"QPV test {next(_sequence)}", geography_year=2024,
            version_date=date(2024, 1, 1), source="tests",
        )
        qpv_list.qpvs = [
            Qpv(code="QN05901M", name="Quartier test Lille",
                communes=[QpvCommune(insee="59350", name="Lille", departement="59")]),
            Qpv(code="QN08001M", name="Quartier test Amiens",
                communes=[QpvCommune(insee="80021", name="Amiens", departement="80")]),
        ]
        db.session.add(qpv_list)
        db.session.commit()  # releases a savepoint only: the test still rolls back
        return qpv_list

    return make


@pytest.fixture
def make_call(db: Any, make_qpv_list):  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Call:
        now = datetime.now(UTC)
        values = {
            "code": f"AAP-T{next(_sequence)}",
            "title": "Appel de test",
            "programme": "Texte de l'appel",
            "opens_at": now - timedelta(days=10),
            "closes_at": now + timedelta(days=30),
            "envelope": Decimal("4000000.00"),
            "fse_rate": Decimal("0.60"),
            "cej_forfait_per_youth": Decimal("1600.00"),
            "share_reperage": Decimal("0.40"),
            "share_sortie_emploi": Decimal("0.40"),
            "flat_rate_other_costs": Decimal("0.40"),
            "required_attachments": DEFAULT_REQUIRED_ATTACHMENTS,
            "admissibility_criteria": DEFAULT_ADMISSIBILITY_CRITERIA,
        } | overrides
        if "qpv_list" not in values and "qpv_list_id" not in values:
            values["qpv_list"] = make_qpv_list()
        call = Call(**values)
        db.session.add(call)
        db.session.commit()  # releases a savepoint only: the test still rolls back
        return call

    return make


@pytest.fixture
def users(make_user):  # type: ignore[no-untyped-def]
    """One user per role, plus an applicant of another structure."""
    return {
        "applicant": make_user(Role.applicant),
        "other_applicant": make_user(Role.applicant),
        "officer": make_user(Role.officer),
        "committee": make_user(Role.committee),
        "admin": make_user(Role.admin),
    }


# E-mail --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes
        from email.policy import default

        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; the app sends to it during the test."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    previous = (app.config["MAIL_SERVER"], app.config["MAIL_PORT"])
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield mailbox
    finally:
        app.config.update(MAIL_SERVER=previous[0], MAIL_PORT=previous[1])
        controller.stop()


# Dossiers ---------------------------------------------------------------------------------

SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n"
)

COMPLETE_CONTENT: dict[str, Any] = {
    "identification": {"contact_name": "Karim Démo", "contact_email": "karim@ml-exemple.fr",
                       "contact_phone": "03 27 00 00 00", "consortium": "no"},
    "project": {"title": "Aller vers les jeunes des quartiers", "summary": "Repérage et accompagnement.",
                "start_date": "2027-01-01", "end_date": "2028-12-31"},
    "territories": {"qpv_codes": ["QN05901M"]},
    "public": {"reperage": {"nb_jeunes": 150, "nb_jeunes_qpv": 120},
               "sortie_emploi": {"nb_jeunes": 100, "nb_jeunes_qpv": 80},
               "age_min": 16, "age_max": 25, "cej_qpv_share_current": "18.5", "cej_qpv_share_target": "30"},
    "resources": {
        "reperage": {"posts": [{"label": "Chargé de mission repérage", "category": "staff",
                                "annual_cost": "42000.00", "fte": "1", "months": 24}],
                     "cofinancing": [], "requested": None},
        "sortie_emploi": {"posts": [{"label": "Chargé relations entreprises", "category": "staff",
                                     "annual_cost": "40000.00", "fte": "1", "months": 24}],
                          "cofinancing": [], "requested": None},
    },
    "indicators": {"identified": 250, "identified_qpv": 200, "cej_entries": 120, "exits_employment": 60,
                   "exits_training": 30, "exits_apprenticeship": 10, "retention_6_months": 40},
    "declaration": {"signatory_name": "Claire Exemple", "signatory_quality": "Présidente", "sworn": True},
}

COMPLETE_STRUCTURE = {
    "legal_form": "Association loi 1901", "address": "1 rue de l'Exemple", "postal_code": "59300",
    "commune_insee": "59606", "commune_name": "Valenciennes", "departement": "59",
    "legal_rep_name": "Claire Exemple", "legal_rep_title": "Présidente",
    "contact_name": "Karim Démo", "contact_email": "contact@ml-exemple.fr",
}


@pytest.fixture
def store(app: Flask):  # type: ignore[no-untyped-def]
    from grants.storage import store_for

    return store_for(app.config["GRANTS_STORAGE_DIR"])


@pytest.fixture
def make_dossier(app: Flask, db: Any, make_call, store):  # type: ignore[no-untyped-def]
    """A draft dossier of ``user``'s structure, filled with ``sections`` (all by default)."""
    from grants.operations import dossiers as ops

    def make(user: User, call: Call | None = None, sections: tuple[str, ...] | None = None,
             attachments: bool = True) -> Any:
        call = call or make_call()
        with app.test_request_context():
            structure = db.session.get(Structure, user.structure_id)
            for key, value in COMPLETE_STRUCTURE.items():
                setattr(structure, key, value)
            dossier = ops.create_dossier(call, structure, user)
            for key in sections if sections is not None else tuple(COMPLETE_CONTENT):
                ops.save_section(dossier, key, COMPLETE_CONTENT[key], user, dossier.version)
            if attachments:
                for item in call.required_attachments:
                    ops.add_attachment(dossier, item["code"], f"{item['code']}.pdf", SAMPLE_PDF, user,
                                       store=store, max_bytes=10 * 1024 * 1024)
            db.session.commit()
        return dossier

    return make


@pytest.fixture
def make_submitted(app: Flask, db: Any, make_dossier, store):  # type: ignore[no-untyped-def]
    """A complete dossier of ``user``'s structure, submitted through the operations (reference,
    frozen version, receipt), as it would be over HTTP."""
    from grants.models import Dossier
    from grants.operations.dossiers import submit_dossier

    def make(user: User, **kwargs: Any) -> Any:
        dossier = make_dossier(user, **kwargs)
        with app.test_request_context():
            dossier = db.session.get(Dossier, dossier.id)
            submit_dossier(dossier, db.session.get(User, user.id), store=store, expected_version=dossier.version)
            db.session.commit()
        return dossier

    return make
