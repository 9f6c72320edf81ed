"""The schema comes only from the migrations, and they match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from grants.extensions import make_engine
from grants.migrate import downgrade, upgrade
from grants.models import Base


def test_upgrade_to_head_matches_models_and_downgrade_empties(fresh_databases):
    url = fresh_databases.new("migrations")
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
        downgrade(url, "base")
        engine.dispose()
        remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        upgrade(url)  # and back up again: the downgrade left a usable database
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()
