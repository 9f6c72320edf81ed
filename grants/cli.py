"""The ``flask --app wsgi grants …`` command group."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .extensions import db
from .models import Role

grants_cli = click.Group("grants", help="Parcours QPV : administration en ligne de commande.")


def main() -> None:
    """The ``grants`` console script: ``grants check-integrity`` is ``flask --app wsgi grants
    check-integrity``, the application being built from the environment (``DATABASE_URL``…)."""
    from flask.cli import ScriptInfo

    from . import create_app

    grants_cli.main(prog_name="grants", obj=ScriptInfo(create_app=create_app, set_debug_flag=False))


def _fail(message: str) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(2)


# Database ---------------------------------------------------------------------------

db_cli = click.Group("db", help="Schéma de la base (migrations Alembic).")
grants_cli.add_command(db_cli)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Met le schéma à jour jusqu'à REVISION (par défaut : head)."""
    from .migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revient à REVISION (« base » : base vide)."""
    from .migrate import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Crée une migration à partir des différences entre modèles et base (développeurs)."""
    from alembic import command

    from .migrate import alembic_config

    command.revision(
        alembic_config(current_app.config["DATABASE_URL"]), message=message, autogenerate=True
    )


# Accounts ---------------------------------------------------------------------------


@grants_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True, help="Prénom et nom.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--siret", help="SIRET de la structure (rôle applicant uniquement ; elle doit exister).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user_command(email: str, full_name: str, role: str, siret: str | None, password: str) -> None:
    """Crée un compte (agent DREETS, membre du comité, administrateur ou porteur)."""
    from .operations.accounts import AccountError, create_user, find_structure_by_siret
    from .security import password_problem

    problem = password_problem(password)
    if problem:
        _fail(problem)
    structure = None
    if role == Role.applicant.value:
        if not siret:
            _fail("un compte porteur doit être rattaché à une structure : indiquez --siret.")
        structure = find_structure_by_siret("".join(c for c in siret if c.isdigit()))
        if structure is None:
            _fail(f"aucune structure n'a le SIRET {siret}.")
    elif siret:
        _fail("--siret ne s'emploie qu'avec --role applicant.")
    try:
        user = create_user(
            email=email, full_name=full_name, role=Role(role), password=password, structure=structure
        )
    except AccountError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Compte créé : {user.email} ({user.role.title}).")


# Demo data ----------------------------------------------------------------------------


@grants_cli.command("demo-data")
@click.option("--allow-production", is_flag=True, help="Autorise les comptes de démonstration en production.")
@click.option("--if-empty", is_flag=True,
              help="Ne charge rien si la base contient déjà des comptes (utilisé par « make run »).")
@with_appcontext
def demo_data_command(allow_production: bool, if_empty: bool) -> None:
    """Charge les données de démonstration (sans effet si elles sont déjà là)."""
    from .demo import DEMO_ACCOUNTS, DemoDataError, database_is_empty, demo_accounts_present, load_demo_data

    if current_app.config["ENV_NAME"] == "production" and not allow_production:
        _fail("données de démonstration refusées en production (mots de passe publics).")
    if if_empty and not database_is_empty():
        if not demo_accounts_present():
            # A database with real accounts: demo accounts with public passwords stay out.
            click.echo("La base contient déjà des comptes : données de démonstration non chargées.")
            return
        click.echo("La base n'est pas vide : données de démonstration déjà présentes, rien n'est chargé.")
        _echo_demo_accounts(DEMO_ACCOUNTS)
        return
    try:
        # A request context: receipts and e-mails of the demo dossiers build absolute URLs.
        # Commit inside it: leaving a request context closes the session.
        with current_app.test_request_context(base_url=current_app.config["GRANTS_BASE_URL"]):
            created = load_demo_data()
            db.session.commit()
    except DemoDataError as exc:
        _fail(str(exc))
    if created:
        click.echo("Base vide : données de démonstration chargées." if if_empty else "Données de démonstration chargées.")
    else:
        click.echo("Données de démonstration déjà présentes.")
    _echo_demo_accounts(DEMO_ACCOUNTS)


def _echo_demo_accounts(accounts: list[dict[str, object]]) -> None:
    click.echo("Comptes de démonstration (adresse / mot de passe) :")
    for account in accounts:
        click.echo(f"  {account['role_title']:<38} {account['email']:<40} {account['password']}")


# QPV reference lists ----------------------------------------------------------------------

qpv_cli = click.Group("qpv", help="Listes de référence des quartiers prioritaires (QPV).")
grants_cli.add_command(qpv_cli)


@qpv_cli.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--official", is_flag=True, help="Télécharge la liste officielle 2024 (data.gouv.fr).")
@click.option("--packaged", is_flag=True,
              help="La liste des 204 QPV des Hauts-de-France (géographie 2024) fournie avec l'application.")
@click.option("--name", default=None, help="Nom de la liste (par défaut : d'après le fichier).")
@click.option("--version-date", type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]), default=None,
              help="Date de version de la liste (par défaut : aujourd'hui).")
@click.option("--departements", default="", help="Ne garder que ces départements, ex. 02,59,60,62,80.")
@with_appcontext
def qpv_import_command(file: Path | None, official: bool, packaged: bool, name: str | None, version_date,
                       departements: str) -> None:
    """Importe une liste de QPV : CSV officiel ANCT (« ; ») ou CSV normalisé (« , »)."""
    from .operations.qpv import import_qpv_list
    from .qpv_reference import (
        OFFICIAL_2024_URL,
        PACKAGED_QPV_FILE,
        PACKAGED_VERSION_DATE,
        QpvFileError,
        default_list_name,
        download_official_list,
        parse_qpv_csv,
    )

    if [bool(file), official, packaged].count(True) != 1:
        _fail("indiquez soit un FICHIER, soit --official, soit --packaged.")
    try:
        if official:
            raw, source = download_official_list(OFFICIAL_2024_URL), OFFICIAL_2024_URL
        elif packaged:
            raw, source = PACKAGED_QPV_FILE.read_bytes(), PACKAGED_QPV_FILE.name
            version_date = version_date or datetime.combine(PACKAGED_VERSION_DATE, datetime.min.time())
        else:
            if not file.is_file():
                _fail(f"fichier introuvable : {file}")
            raw, source = file.read_bytes(), file.name
        keep = tuple(d.strip() for d in departements.split(",") if d.strip()) or None
        parsed = parse_qpv_csv(raw, keep)
        qpv_list = import_qpv_list(
            parsed,
            name=name or default_list_name(parsed),
            version_date=version_date.date() if version_date else date.today(),
            source=source,
        )
    except QpvFileError as exc:
        _fail(str(exc))
    db.session.commit()
    communes = len({c.insee for q in qpv_list.qpvs for c in q.communes})
    click.echo(f"Liste « {qpv_list.label} » importée : {len(parsed)} QPV, {communes} communes.")


# Finance ------------------------------------------------------------------------------

finance_cli = click.Group("finance", help="Calculs de cofinancement FSE+.")
grants_cli.add_command(finance_cli)


@finance_cli.command("simulate")
@click.option("--bilan", is_flag=True,
              help="Le FSE+ dû sur les réalisations d'un bilan, plafonné par le montant attribué (« granted », « paid »).")
@click.argument("input_file")
def finance_simulate(input_file: str, bilan: bool) -> None:
    """Calcule le plan de financement d'un fichier JSON (« - » : entrée standard)."""
    from .finance.simulator import run

    sys.exit(run(input_file, sys.stdin, sys.stdout, sys.stderr, bilan=bilan))



# PDF documents ----------------------------------------------------------------------------

pdf_cli = click.Group("pdf", help="Documents PDF : fiche de synthèse, dossier du comité, procès-verbal, lettre.")
grants_cli.add_command(pdf_cli)
output_option = click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Fichier PDF à écrire (« - » : sortie standard).",
)


def _write_pdf(data: bytes, output: Path) -> None:
    if str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    output.write_bytes(data)
    click.echo(f"{output} : {len(data)} octets.", err=True)


def _rendered(render: Callable[[], bytes]) -> bytes:
    """A document rendered now (its renderings kept: committed), or exit 2 with why not."""
    from .operations.documents import DocumentUnavailable

    try:
        data = render()
    except DocumentUnavailable as exc:
        _fail(str(exc))
    db.session.commit()
    return data


def _dossier_by_reference(reference: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from .models import Dossier

    dossier = db.session.scalar(select(Dossier).where(Dossier.reference == reference.strip()))
    if dossier is None:
        _fail(f"aucun dossier de référence {reference!r}.")
    return dossier


def _session_by_id(session_id: int):  # type: ignore[no-untyped-def]
    from .models import CommitteeSession

    session = db.session.get(CommitteeSession, session_id)
    if session is None:
        _fail(f"aucune séance d'identifiant {session_id}.")
    return session


@pdf_cli.command("synthese")
@click.argument("reference")
@output_option
@with_appcontext
def pdf_synthese(reference: str, output: Path) -> None:
    """Fiche de synthèse du dossier REFERENCE (rendue de nouveau seulement si le dossier a changé)."""
    from .operations.documents import fiche_pdf
    from .storage import current_store

    dossier = _dossier_by_reference(reference)
    _write_pdf(_rendered(lambda: fiche_pdf(dossier, store=current_store())[0]), output)


@pdf_cli.command("committee")
@click.argument("session_id", type=int)
@output_option
@with_appcontext
def pdf_committee(session_id: int, output: Path) -> None:
    """Dossier du comité de la séance SESSION_ID : ordre du jour, enveloppe, toutes les fiches."""
    from .operations.documents import committee_pack
    from .storage import current_store

    session = _session_by_id(session_id)
    _write_pdf(_rendered(lambda: committee_pack(session, store=current_store())), output)


@pdf_cli.command("minutes")
@click.argument("session_id", type=int)
@output_option
@with_appcontext
def pdf_minutes(session_id: int, output: Path) -> None:
    """Procès-verbal de la séance SESSION_ID (établi à sa clôture)."""
    from .storage import current_store

    session = _session_by_id(session_id)
    if session.minutes_file is None:
        _fail(f"la {session.label} de l'appel {session.call.code} (identifiant {session_id}) n'est pas close : "
              "son procès-verbal n'est pas encore établi.")
    _write_pdf(_stored(current_store(), session.minutes_file, session.minutes_sha256), output)


@pdf_cli.command("letter")
@click.argument("reference")
@output_option
@with_appcontext
def pdf_letter(reference: str, output: Path) -> None:
    """Lettre de notification de la décision prise sur le dossier REFERENCE."""
    from .operations.documents import notification_letter
    from .storage import current_store

    dossier = _dossier_by_reference(reference)
    letter = notification_letter(dossier)
    if letter is None:
        _fail(f"aucune lettre de notification pour {dossier.reference} ({dossier.state.title.lower()}) : "
              "elle est établie à la clôture de la séance du comité ou à la déclaration d'irrecevabilité.")
    _write_pdf(_stored(current_store(), letter.file, letter.sha256), output)


def _stored(store, name: str, sha256: str | None) -> bytes:  # type: ignore[no-untyped-def]
    from .storage import sha256_hex

    data = store.read(name)
    if sha256_hex(data) != sha256:
        _fail(f"le fichier stocké {name} ne correspond plus à son empreinte SHA-256.")
    return data


from . import maintenance  # noqa: E402,F401  (registers check-integrity, backup and restore)
