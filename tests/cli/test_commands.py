"""The `flask --app wsgi grants …` commands."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from grants.models import (
    Call,
    CommitteeSession,
    Decision,
    Dossier,
    DossierState,
    Qpv,
    QpvCommune,
    QpvList,
    Role,
    SessionStatus,
    User,
)

from grants.qpv_reference import PACKAGED_QPV_FILE


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


def test_create_user(runner, db):
    result = runner.invoke(
        args=["grants", "create-user", "--email", "Agent@DREETS.gouv.fr", "--name", "Agnès Agent",
              "--role", "officer", "--password", "un-mot-de-passe-solide"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "agent@dreets.gouv.fr"))
    assert user.role is Role.officer


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--role", "officer", "--password", "court"], "au moins 12 caractères"),
        (["--role", "applicant", "--password", "un-mot-de-passe-solide"], "indiquez --siret"),
        (["--role", "applicant", "--siret", "90010000900019", "--password", "un-mot-de-passe-solide"], "aucune structure"),
        (["--role", "officer", "--siret", "90010000900019", "--password", "un-mot-de-passe-solide"], "ne s'emploie qu'avec"),
    ],
)
def test_create_user_refusals(runner, extra, message):
    result = runner.invoke(args=["grants", "create-user", "--email", "a@exemple.fr", "--name", "A", *extra])
    assert result.exit_code == 2
    assert message in result.output


def test_create_applicant_user_for_existing_structure(runner, db, make_structure):
    structure = make_structure()
    result = runner.invoke(
        args=["grants", "create-user", "--email", "b@exemple.fr", "--name", "B", "--role", "applicant",
              "--siret", structure.siret, "--password", "un-mot-de-passe-solide"]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "b@exemple.fr")).structure_id == structure.id


def test_demo_data_is_idempotent_and_prints_logins(runner, db):
    first = runner.invoke(args=["grants", "demo-data"])
    assert first.exit_code == 0, first.output
    assert "Données de démonstration chargées." in first.output
    assert "admin@dreets-hdf.demo" in first.output and "Demo-Admin-2026!" in first.output
    counts = (
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(Call.id))),
        db.session.scalar(select(func.count(Qpv.id))),
    )
    second = runner.invoke(args=["grants", "demo-data"])
    assert second.exit_code == 0
    assert "déjà présentes" in second.output
    assert counts == (
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(Call.id))),
        db.session.scalar(select(func.count(Qpv.id))),
    )
    assert counts[0] == 5 and counts[1] == 2
    demo = db.session.scalars(select(Dossier).order_by(Dossier.id)).all()
    assert [d.state for d in demo] == [
        DossierState.submitted, DossierState.submitted, DossierState.draft,  # the open demo call
        DossierState.selected, DossierState.rejected, DossierState.instructed, DossierState.inadmissible,  # 2023
    ]
    assert all(d.versions[0].receipt_file for d in demo if d.state is not DossierState.draft)
    closed, held = db.session.scalars(select(CommitteeSession).order_by(CommitteeSession.id)).all()
    assert closed.status is SessionStatus.closed and closed.minutes_file
    assert [i.decision for i in closed.items] == [Decision.selected, Decision.rejected, Decision.deferred]
    assert [bool(i.letter_file) for i in closed.items] == [True, True, False]
    assert held.status is SessionStatus.held and [i.dossier_id for i in held.items] == [demo[5].id]
    reference = db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2023"))
    assert str(reference.envelope) == "4000000.00"
    assert str(reference.fse_rate) == "0.60"
    assert reference.qpv_list.geography_year == 2024
    structures = {u.structure.departement for u in db.session.scalars(select(User).where(User.role == Role.applicant))}
    assert structures == {"59", "80"}


def test_demo_data_is_refused_in_production(runner, app):
    app.config["ENV_NAME"] = "production"
    try:
        result = runner.invoke(args=["grants", "demo-data"])
    finally:
        app.config["ENV_NAME"] = "development"
    assert result.exit_code == 2
    assert "refusées en production" in result.output


@pytest.mark.parametrize("how", ["file", "packaged"])
def test_import_the_packaged_hauts_de_france_list(runner, db, how):
    args = [str(PACKAGED_QPV_FILE), "--version-date", "2024-01-01"] if how == "file" else ["--packaged"]
    result = runner.invoke(args=["grants", "qpv", "import", *args])
    assert result.exit_code == 0, result.output
    assert "204 QPV, 161 communes" in result.output
    qpv_list = db.session.scalar(select(QpvList))
    assert qpv_list.geography_year == 2024
    assert qpv_list.name == "QPV Hauts-de-France — géographie 2024"
    pairs = db.session.scalar(select(func.count(QpvCommune.id)))
    assert pairs == 286
    secteur_sud = db.session.scalar(select(Qpv).where(Qpv.code == "QN05972M"))
    assert {c.name for c in secteur_sud.communes} == {"Faches-Thumesnil", "Lezennes", "Lille", "Loos"}
    assert str(qpv_list.version_date) == "2024-01-01"
    departements = db.session.execute(
        select(QpvCommune.departement, func.count(func.distinct(QpvCommune.qpv_id))).group_by(QpvCommune.departement)
    ).all()
    assert dict(departements) == {"02": 17, "59": 94, "60": 19, "62": 64, "80": 10}  # INSEE's published counts


def test_import_needs_exactly_one_source(runner, db):
    for args in ([], ["--official", "--packaged"], [str(PACKAGED_QPV_FILE), "--packaged"]):
        result = runner.invoke(args=["grants", "qpv", "import", *args])
        assert result.exit_code == 2, args
        assert "indiquez soit un FICHIER, soit --official, soit --packaged" in result.output


OFFICIAL = (
    "code_qp;lib_qp;insee_com;lib_com;siren_epci\n"
    'QN05972M;Secteur Sud;"59220;59339;59350;59360";"Faches-Thumesnil;Lezennes;Lille;Loos";200093201\n'
    "QN08001M;Étouvie;80021;Amiens;248000531\n"
    "QN07501M;Quartier parisien;75056;Paris;200054781\n"
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_import_official_anct_format_with_multi_commune_cells(runner, db, tmp_path, encoding):
    path = tmp_path / "listeqp2024-cog2024.csv"
    path.write_bytes(OFFICIAL.encode(encoding))
    result = runner.invoke(
        args=["grants", "qpv", "import", str(path), "--departements", "02,59,60,62,80", "--version-date", "16/01/2026"]
    )
    assert result.exit_code == 0, result.output
    assert "2 QPV, 5 communes" in result.output
    secteur_sud = db.session.scalar(select(Qpv).where(Qpv.code == "QN05972M"))
    assert [(c.insee, c.name) for c in secteur_sud.communes] == [
        ("59220", "Faches-Thumesnil"), ("59339", "Lezennes"), ("59350", "Lille"), ("59360", "Loos"),
    ]
    assert db.session.scalar(select(Qpv).where(Qpv.code == "QN08001M")).name == "Étouvie"
    assert db.session.scalar(select(Qpv).where(Qpv.code == "QN07501M")) is None
    # The same list twice is refused, nothing duplicated.
    again = runner.invoke(args=["grants", "qpv", "import", str(path), "--departements", "02,59,60,62,80", "--version-date", "16/01/2026"])
    assert again.exit_code == 2
    assert "déjà chargée" in again.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b,c\n1,2,3\n", "En-tête non reconnu"),
        ("code_qp,nom_qp,insee_com,lib_com,dep\nXX1,Nom,59350,Lille,59\n", "code QPV « XX1 » invalide"),
        ("code_qp,nom_qp,insee_com,lib_com,dep\nQN05901M,Nom,5935,Lille,59\n", "code commune « 5935 » invalide"),
        ("code_qp,nom_qp,insee_com,lib_com,dep\nQN05901M,,59350,Lille,59\n", "nom du QPV QN05901M manquant"),
        ("code_qp,nom_qp,insee_com,lib_com,dep\n", "Aucun QPV"),
    ],
)
def test_import_bad_files_exit_2_with_french_message(runner, db, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(args=["grants", "qpv", "import", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert db.session.scalar(select(func.count(QpvList.id))) == 0


def test_import_missing_file(runner):
    result = runner.invoke(args=["grants", "qpv", "import", "/nulle/part.csv"])
    assert result.exit_code == 2
    assert "fichier introuvable" in result.output


def test_import_official_download_offline_gives_french_message(runner, monkeypatch):
    from grants import qpv_reference

    # A closed local port stands for "offline", whatever the machine's network.
    monkeypatch.setattr(qpv_reference, "OFFICIAL_2024_URL", "https://127.0.0.1:9/liste.csv")
    result = runner.invoke(args=["grants", "qpv", "import", "--official"])
    assert result.exit_code == 2
    assert "Impossible de télécharger la liste officielle" in result.output


@pytest.fixture
def demo(runner, db):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["grants", "demo-data"])
    assert result.exit_code == 0, result.output
    return {d.state: d for d in db.session.scalars(select(Dossier).join(Call).where(Call.code == "AAP-QPV-2023"))}


def test_pdf_commands_write_every_document_of_the_demo(runner, db, demo, tmp_path):
    from tests.pdftools import pdf_words

    closed = db.session.scalar(select(CommitteeSession).where(CommitteeSession.status == SessionStatus.closed))
    selected, rejected = demo[DossierState.selected], demo[DossierState.rejected]
    commands = {
        "synthese": (["synthese", demo[DossierState.instructed].reference], "Fiche de synthèse"),
        "committee": (["committee", str(closed.id)], "Dossier du comité"),
        "minutes": (["minutes", str(closed.id)], "Procès-verbal du comité de sélection"),
        "selected": (["letter", selected.reference], "notification de sélection"),
        "rejected": (["letter", rejected.reference], "notification de rejet"),
        "inadmissible": (["letter", demo[DossierState.inadmissible].reference], "notification d'irrecevabilité"),
    }
    for name, (args, title) in commands.items():
        output = tmp_path / f"{name}.pdf"
        result = runner.invoke(args=["grants", "pdf", *args, "-o", str(output)])
        assert result.exit_code == 0, result.output
        assert title in pdf_words(output.read_bytes()), name
    assert pdf_words((tmp_path / "minutes.pdf").read_bytes()).count("AAP-QPV-2023-000") == 3


def test_pdf_commands_refuse_with_a_french_message(runner, db, demo, tmp_path):
    held = db.session.scalar(select(CommitteeSession).where(CommitteeSession.status == SessionStatus.held))
    cases = [  # one demo load for all: it renders a dozen documents
        (["synthese", "AAP-NULLE-PART"], "aucun dossier de référence"),
        (["committee", "999999"], "aucune séance d'identifiant 999999"),
        (["letter", demo[DossierState.instructed].reference], "aucune lettre de notification"),
        (["minutes", str(held.id)], "n'est pas close"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["grants", "pdf", *args, "-o", str(tmp_path / "x.pdf")])
        assert result.exit_code == 2, args
        assert message in result.output
        assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/liste.csv", "ftp://exemple.fr/liste.csv"])
def test_official_list_is_fetched_over_https_only(url):  # type: ignore[no-untyped-def]
    from grants.qpv_reference import QpvFileError, download_official_list

    with pytest.raises(QpvFileError, match="https uniquement"):
        download_official_list(url)
