"""The benchmark's own PostgreSQL database: created on the admin URL's server, dropped after."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_ADMIN_URL


@contextmanager
def bench_database(server_url: str, name: str | None = None, keep: bool = False) -> Iterator[str]:
    """A fresh database ``grants_bench_<pid>`` on ``server_url``'s server, migrated to head.

    Yields its URL; the database is dropped on exit (even after an error) unless ``keep``.
    """
    from grants.migrate import upgrade

    url = make_url(server_url)
    if not url.drivername.startswith("postgresql"):
        raise SystemExit("BENCH_DATABASE_URL doit désigner un serveur PostgreSQL (postgresql+psycopg://…).")
    name = name or f"grants_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        database_url = url.set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(database_url)
            yield database_url
        finally:
            if not keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def server_version(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()
