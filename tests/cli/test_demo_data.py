"""`grants demo-data`: only into an empty database for `make run`, and where its QPV list
comes from (GRANTS_QPV_FILE, else the list shipped in the package; never a download)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from grants import demo, qpv_reference
from grants.models import Call, Qpv, QpvList, Role, User

NORMALISED = "code_qp,nom_qp,insee_com,lib_com,dep\n{code},{name},59350,Lille,59\n"


@pytest.fixture
def runner(app, db):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


# make run: demo data into an empty database only ---------------------------------------------------


def test_run_path_loads_demo_data_into_an_empty_database(runner, db):
    assert count(db, User) == 0
    first = runner.invoke(args=["grants", "demo-data", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "Base vide : données de démonstration chargées." in first.output
    assert "admin@dreets-hdf.demo" in first.output and "Demo-Admin-2026!" in first.output
    users, calls = count(db, User), count(db, Call)
    assert users == 5 and calls == 2
    # The next `make run`: nothing loaded again, the logins still printed.
    again = runner.invoke(args=["grants", "demo-data", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "rien n'est chargé" in again.output and "Demo-Admin-2026!" in again.output
    assert (count(db, User), count(db, Call)) == (users, calls)
    # The explicit command stays idempotent too.
    explicit = runner.invoke(args=["grants", "demo-data"])
    assert explicit.exit_code == 0 and "déjà présentes" in explicit.output
    assert (count(db, User), count(db, Call)) == (users, calls)


def test_run_path_leaves_a_database_with_real_accounts_alone(runner, db, make_user):
    make_user(Role.admin, email="vraie.admin@dreets.gouv.fr")
    result = runner.invoke(args=["grants", "demo-data", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "La base contient déjà des comptes : données de démonstration non chargées." in result.output
    assert "Demo-Admin-2026!" not in result.output  # no public password for accounts that do not exist
    assert count(db, User) == 1 and count(db, Call) == 0 and count(db, QpvList) == 0


def test_makefile_run_target_loads_demo_data_only_when_empty():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "$(GRANTS) demo-data --if-empty" in run
    demo_target = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "$(GRANTS) demo-data\n" in demo_target + "\n"


# Where the demo's QPV list comes from -------------------------------------------------------------


@pytest.fixture
def sources(app, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """A GRANTS_QPV_FILE file (absent at first, unset); the official download never answers."""
    configured = tmp_path / "ailleurs" / "ma-liste.csv"
    monkeypatch.setitem(app.config, "GRANTS_QPV_FILE", None)
    downloads: list[str] = []

    def no_download(url: str = "", timeout: float = 20) -> bytes:
        downloads.append(url)
        raise AssertionError("the demo data must never download the QPV list")

    monkeypatch.setattr(qpv_reference, "download_official_list", no_download)

    class Sources:
        asked = downloads

        def add_configured(self, *, create: bool = True) -> None:
            if create:
                configured.parent.mkdir(parents=True)
                configured.write_text(NORMALISED.format(code="QN05902M", name="Quartier configuré"), encoding="utf-8")
            monkeypatch.setitem(app.config, "GRANTS_QPV_FILE", str(configured))

    return Sources()


def load_list(app, db) -> QpvList:  # type: ignore[no-untyped-def]
    with app.app_context():
        qpv_list = demo._load_qpv_list()
        db.session.commit()
        return db.session.get(QpvList, qpv_list.id)


def test_qpv_list_from_the_package_by_default(app, db, sources):
    qpv_list = load_list(app, db)
    assert qpv_list.source == "qpv_hdf_2024.csv"
    assert qpv_list.geography_year == 2024 and str(qpv_list.version_date) == "2024-01-01"
    assert db.session.scalar(select(func.count()).select_from(Qpv)) == 204
    assert sources.asked == []


def test_qpv_list_from_grants_qpv_file_when_set(app, db, sources):
    sources.add_configured()
    qpv_list = load_list(app, db)
    assert qpv_list.source == "ma-liste.csv"
    assert [q.name for q in db.session.scalars(select(Qpv))] == ["Quartier configuré"]
    assert sources.asked == []


def test_a_missing_grants_qpv_file_is_named(app, db, sources):
    sources.add_configured(create=False)
    with app.app_context(), pytest.raises(demo.DemoDataError, match="GRANTS_QPV_FILE désigne un fichier introuvable"):
        demo._load_qpv_list()


def test_demo_data_works_offline(runner, db, sources):
    """No network, no file beside the checkout: the demo data loads from the package."""
    result = runner.invoke(args=["grants", "demo-data", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Base vide : données de démonstration chargées." in result.output
    assert sources.asked == []
    assert db.session.scalar(select(func.count()).select_from(Qpv)) == 204
