"""Fixtures of the maintenance tests: a committed world in its own database and storage.

The integrity tests break that world inside a transaction rolled back after each test, on
a copy of its storage; the backup tests back it up, wipe it and restore it for real.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine

from grants.extensions import make_engine
from grants.migrate import upgrade
from grants.storage import LocalFileStore, store_for

from .world import World, build_world, session_bound_to


@dataclass
class Built:
    url: str
    engine: Engine
    storage: Path
    ids: World


@pytest.fixture(scope="module")
def build(app: Flask, fresh_databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Built]]:
    """Builds a world in a new migrated database with its own storage directory."""
    engines: list[Engine] = []

    def make(label: str) -> Built:
        url = fresh_databases.new(label)
        upgrade(url)
        storage = tmp_path_factory.mktemp(f"{label}-storage")
        engine = make_engine(url)
        engines.append(engine)
        with session_bound_to(engine):
            ids = build_world(app, store_for(storage))
        return Built(url, engine, storage, ids)

    yield make
    for engine in engines:
        engine.dispose()


@dataclass
class Breakable:
    """The world in an open transaction: break it, then ``commit()`` (a savepoint only)."""

    session: Any
    store: LocalFileStore
    storage: Path
    ids: World

    def commit(self) -> None:
        self.session.commit()


@pytest.fixture(scope="module")
def world(build) -> Built:  # type: ignore[no-untyped-def]
    return build("integrity")


@pytest.fixture
def breakable(world: Built, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Breakable]:
    storage = tmp_path / "storage"
    shutil.copytree(world.storage, storage)
    monkeypatch.setitem(app.config, "GRANTS_STORAGE_DIR", str(storage))
    connection = world.engine.connect()
    transaction = connection.begin()
    try:
        with session_bound_to(connection, join_transaction_mode="create_savepoint") as session:
            yield Breakable(session, store_for(storage), storage, world.ids)
    finally:
        transaction.rollback()
        connection.close()
