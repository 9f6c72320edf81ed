"""Extensions created bare and bound to the app in the factory."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker


class Database:
    """A SQLAlchemy engine and a request-scoped session, without Flask-SQLAlchemy.

    Plain SQLAlchemy keeps the session bindable to one connection in tests (so each
    test rolls back), which Flask-SQLAlchemy's ``get_bind`` does not allow.
    """

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(
            sessionmaker(expire_on_commit=False)
        )

    def init_app(self, app: Flask) -> None:
        if self.engine is not None:
            # A second app in the same process (tests, scripts) replaces the first's engine:
            # close its pooled connections instead of leaving them to the garbage collector.
            self.session.remove()
            self.engine.dispose()
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session.configure(bind=self.engine)
        app.extensions["grants_db"] = self

        # One session per request, closed when the request ends (commands keep theirs
        # until the process exits).
        @app.teardown_request
        def remove_session(exc: BaseException | None) -> None:
            self.session.remove()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets real transactions, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        # pysqlite's implicit transaction handling breaks SAVEPOINT and transactional
        # DDL: take control of BEGIN ourselves (SQLAlchemy's documented recipe).
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, connection_record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        # IMMEDIATE: a transaction takes SQLite's write lock when it begins, so concurrent
        # requests queue behind each other (busy timeout) instead of failing with
        # "database is locked" when two of them turn from reading to writing at once.
        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
