"""Operators' commands: ``grants check-integrity``, ``grants backup DIR``, ``grants restore DIR``,
``grants scan-pending``.

Registered on the ``grants`` group by importing this module at the end of ``grants.cli``.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli import grants_cli
from .extensions import db

EXIT_PROBLEMS = 1
EXIT_REFUSED = 2


def _quiet_alembic() -> None:
    """Reading the schema revision is not a migration: keep Alembic's INFO lines out."""
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _fail(message: str) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(EXIT_REFUSED)


def _size(count: int) -> str:
    """``70057`` → ``68,4 Kio``."""
    value, unit = float(count), "octets"
    for larger in ("Kio", "Mio", "Gio"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{count} octets" if unit == "octets" else f"{value:.1f} {unit}".replace(".", ",")


@grants_cli.command("scan-pending")
@with_appcontext
def scan_pending_command() -> None:
    """Analyse par l'antivirus les fichiers restés en attente (clamd indisponible à leur arrivée)."""
    from .antivirus import current_scanner
    from .operations.antivirus import rescan_pending
    from .storage import current_store

    scanner = current_scanner()
    if scanner is None:
        _fail("aucun antivirus configuré (GRANTS_CLAMD_SOCKET).")
    report = rescan_pending(scanner, current_store())
    db.session.commit()  # what was scanned before an interruption is kept
    done = report.scanned
    click.echo(f"Antivirus : {done['clean']} fichier(s) sain(s), {done['infected']} bloqué(s).")
    for line in report.infected:
        click.echo(f"  bloqué : {line}")
    if report.unavailable is not None:
        click.echo(f"Erreur : antivirus injoignable ({report.unavailable}) ; les autres fichiers restent en attente.",
                   err=True)
        sys.exit(EXIT_PROBLEMS)


@grants_cli.command("check-integrity")
@with_appcontext
def check_integrity_command() -> None:
    """Vérifie les invariants de la base et des fichiers stockés (code 1 et liste si un problème est trouvé)."""
    from .integrity import check_integrity
    from .storage import store_for

    counts: Counter[str] = Counter()
    problems = check_integrity(db.session, store_for(current_app.config["GRANTS_STORAGE_DIR"]), counts)
    db.session.rollback()
    examined = (
        f"{counts['dossiers']} dossier(s), {counts['versions']} version(s), {counts['references']} référence(s), "
        f"{counts['files']} fichier(s) stocké(s), {counts['calls']} appel(s), "
        f"{counts['committee_sessions']} séance(s) du comité"
    )
    if problems:
        click.echo(f"Intégrité : {len(problems)} problème(s) trouvé(s) ({examined} examinés).")
        for problem in problems:
            click.echo(f"  - {problem}")
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"Intégrité vérifiée, aucun problème : {examined}.")


@grants_cli.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Sauvegarde la base, les fichiers stockés et un manifeste d'empreintes dans DIRECTORY (nouveau ou vide)."""
    from .backup import BackupError, create_backup

    _quiet_alembic()
    try:
        manifest = create_backup(
            current_app.config["DATABASE_URL"], current_app.config["GRANTS_STORAGE_DIR"], directory
        )
    except BackupError as exc:
        _fail(str(exc))
    database, storage = manifest["database"], manifest["storage"]
    click.echo(
        f"Sauvegarde écrite dans {directory} : base {database['kind']} (révision "
        f"{database['alembic_revision'] or 'aucune'}), {storage['files']} fichier(s) stocké(s) "
        f"({_size(storage['bytes'])}), manifeste {directory / 'manifest.json'}."
    )
    if storage["ignored"]:
        click.echo(f"{storage['ignored']} fichier(s) étranger(s) au stockage (écritures interrompues) non copiés.")


@grants_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--wipe", is_flag=True, help="Efface la base et le stockage actuels avant de restaurer.")
@with_appcontext
def restore_command(directory: Path, wipe: bool) -> None:
    """Restaure une sauvegarde (base et fichiers stockés) après en avoir vérifié toutes les empreintes."""
    from .backup import BackupError, head_revision, restore_backup

    _quiet_alembic()
    url = current_app.config["DATABASE_URL"]
    db.session.remove()
    if db.engine is not None:
        db.engine.dispose()  # no connection of ours may hold the database being replaced
    try:
        manifest = restore_backup(directory, url, current_app.config["GRANTS_STORAGE_DIR"], wipe=wipe)
    except BackupError as exc:
        _fail(str(exc))
    revision = manifest["database"]["alembic_revision"]
    click.echo(
        f"Sauvegarde du {manifest['created_at']} restaurée : base {manifest['database']['kind']} "
        f"(révision {revision or 'aucune'}), {manifest['storage']['files']} fichier(s) stocké(s)."
    )
    head = head_revision(url)
    if revision != head:
        click.echo(f"Le schéma sauvegardé ({revision}) précède celui du code ({head}) : "
                   "lancez « flask --app wsgi grants db upgrade ».")
    click.echo("Vérifiez ensuite : flask --app wsgi grants check-integrity")
