"""Backups: the database, the stored files and a manifest of their SHA-256, restored together.

The database refers to stored files by name and hash, so the two are only useful as a
pair. A backup directory holds the database (``pg_dump`` custom format, or a copy made
with SQLite's online backup API), ``storage/`` (the file store, same layout) and
``manifest.json``; ``restore`` checks every hash of the manifest before touching anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .extensions import make_engine
from .storage import DIR_MODE, FILE_MODE, NAME_PATTERN

MANIFEST = "manifest.json"
FORMAT = "parcours-qpv-backup"
FORMAT_VERSION = 1
STORAGE = "storage"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
# A backup holds personal data: readable by its owner only.
BACKUP_DIR_MODE = 0o700
BACKUP_FILE_MODE = 0o600
_CHUNK = 1024 * 1024
# The only storage paths a backup may hold: the file store's own layout, ab/cd/abcd….
_STORED = re.compile(rf"{STORAGE}/([0-9a-f]{{2}})/([0-9a-f]{{2}})/({NAME_PATTERN.pattern})")


def _stored_name(relative: str) -> str | None:
    """The store name behind a backup path, if the path is exactly where the store keeps it."""
    match = _STORED.fullmatch(relative)
    if match is None or match[3][:2] != match[1] or match[3][2:4] != match[2]:
        return None
    return match[3]


class BackupError(RuntimeError):
    """A backup or a restore that cannot go on; the message is French."""


# Backup -----------------------------------------------------------------------------------


def create_backup(database_url: str, storage_dir: str | Path, target: str | Path) -> dict[str, Any]:
    """Write the database, a copy of the storage and the manifest into ``target`` (new or empty)."""
    kind = database_kind(database_url)
    target = Path(target)
    if target.resolve().is_relative_to(Path(storage_dir).resolve()):
        raise BackupError("la sauvegarde ne peut pas être écrite dans le stockage qu'elle copie.")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(
            f"{target} existe déjà et n'est pas un dossier vide : une sauvegarde n'en écrase jamais "
            "une autre, indiquez un nouveau dossier."
        )
    target.mkdir(mode=BACKUP_DIR_MODE, parents=True, exist_ok=True)
    try:
        return _write_backup(database_url, kind, Path(storage_dir), target)
    except BaseException:
        # The directory was empty: leave it so, a half-written backup must not be mistaken for one.
        _empty(target)
        raise


def _write_backup(database_url: str, kind: str, storage_dir: Path, target: Path) -> dict[str, Any]:
    database_file = target / DATABASE_FILES[kind]
    # Database first, files second: a file is stored before the transaction that names it
    # commits, so every file the database copy refers to already exists when storage is copied.
    if kind == "postgresql":
        revision = current_revision(database_url)
        tool = _pg_dump(database_url, database_file)
    else:
        tool = f"sqlite3 {sqlite3.sqlite_version}"
        _sqlite_copy(_sqlite_path(database_url, must_exist=True), database_file)
        revision = current_revision(f"sqlite:///{database_file}")
    os.chmod(database_file, BACKUP_FILE_MODE)
    files = {database_file.name: _describe(database_file)}
    stored, ignored = _copy_storage(storage_dir, target / STORAGE)
    files.update(stored)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {
            "kind": kind,
            "file": database_file.name,
            "alembic_revision": revision,
            "source": make_url(database_url).render_as_string(hide_password=True),
            "tool": tool,
        },
        "storage": {
            "directory": STORAGE,
            "files": len(stored),
            "bytes": sum(f["size"] for f in stored.values()),
            "ignored": ignored,
        },
        "files": files,
    }
    # The manifest comes last: a backup interrupted before it is refused by restore.
    temporary = target / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.chmod(temporary, BACKUP_FILE_MODE)
    os.replace(temporary, target / MANIFEST)
    return manifest


def database_kind(database_url: str) -> str:
    kind = make_url(database_url).get_backend_name()
    if kind not in DATABASE_FILES:
        raise BackupError(f"base de données « {kind} » non prise en charge (PostgreSQL ou SQLite).")
    return kind


def current_revision(database_url: str) -> str | None:
    """The Alembic revision the database is at (None: never migrated)."""
    from alembic.migration import MigrationContext

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        raise _unreachable(exc) from None
    finally:
        engine.dispose()


def _unreachable(exc: DBAPIError) -> BackupError:
    return BackupError(f"base de données inaccessible : {str(exc.orig).strip()}")


def _copy_storage(source: Path, destination: Path) -> tuple[dict[str, dict[str, Any]], int]:
    """Copy the store's files, hashing each copy; anything else in the directory is left out."""
    files: dict[str, dict[str, Any]] = {}
    ignored = 0
    destination.mkdir(mode=BACKUP_DIR_MODE, exist_ok=True)
    if not source.is_dir():
        return files, ignored
    # os.walk does not follow symbolic links: the backup never leaves the store.
    for directory, subdirectories, names in os.walk(source):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory, name)
            relative = f"{STORAGE}/{path.relative_to(source).as_posix()}"
            if path.is_symlink() or not path.is_file() or _stored_name(relative) is None:
                ignored += 1  # temporary files of interrupted writes, stray files
                continue
            copy = destination / path.relative_to(source)
            copy.parent.mkdir(mode=BACKUP_DIR_MODE, parents=True, exist_ok=True)
            files[relative] = _copy_file(path, copy, BACKUP_FILE_MODE)
    return files, ignored


# Verification ----------------------------------------------------------------------------------


def verify_backup(source: str | Path) -> dict[str, Any]:
    """The manifest, once every file it lists is present with its hash and nothing was added."""
    source = Path(source)
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(
            f"{source} ne contient pas de {MANIFEST} : ce n'est pas une sauvegarde, ou elle a été "
            "interrompue avant la fin."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        kind = manifest["database"]["kind"]
        files = manifest["files"]
        listed = {name: (str(entry["sha256"]), int(entry["size"])) for name, entry in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{MANIFEST} illisible ({exc.__class__.__name__}) : sauvegarde refusée.") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{MANIFEST} d'un format inconnu : sauvegarde refusée.")
    if kind not in DATABASE_FILES or manifest["database"].get("file") != DATABASE_FILES[kind] \
            or DATABASE_FILES[kind] not in listed:
        raise BackupError(f"{MANIFEST} ne décrit pas de copie de la base : sauvegarde refusée.")

    problems = []
    for name, (sha256, size) in sorted(listed.items()):
        if name != DATABASE_FILES[kind] and _stored_name(name) is None:
            problems.append(f"{name} : chemin non admis dans une sauvegarde")
            continue
        path = source / name
        if path.is_symlink() or not path.is_file():
            problems.append(f"{name} : fichier manquant")
        elif path.stat().st_size != size or _sha256(path) != sha256:
            problems.append(f"{name} : contenu modifié (empreinte SHA-256 différente du manifeste)")
    for path in sorted(source.rglob("*")):
        name = path.relative_to(source).as_posix()
        if name != MANIFEST and name not in listed and (path.is_file() or path.is_symlink()):
            problems.append(f"{name} : fichier absent du manifeste, ajouté après la sauvegarde")
    if problems:
        raise BackupError(
            "sauvegarde refusée : elle ne correspond plus à son manifeste (fichiers modifiés, manquants "
            "ou ajoutés depuis sa création). Rien n'a été restauré.\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return manifest


# Restore ---------------------------------------------------------------------------------------


def restore_backup(
    source: str | Path, database_url: str, storage_dir: str | Path, *, wipe: bool = False
) -> dict[str, Any]:
    """Verify the backup, then replace the database and the storage by its copies.

    The target must be empty unless ``wipe``: then its tables, views, sequences, functions
    and stored files are deleted first. Stop the application during a restore.
    """
    source, storage_dir = Path(source), Path(storage_dir)
    manifest = verify_backup(source)
    kind = database_kind(database_url)
    if manifest["database"]["kind"] != kind:
        raise BackupError(
            f"sauvegarde d'une base {manifest['database']['kind']}, la base cible est {kind} : "
            "restaurez vers le même type de base."
        )
    revision = manifest["database"].get("alembic_revision")
    _check_known_revision(database_url, revision)

    occupied = []
    if _has_tables(database_url, kind):
        occupied.append("la base de données contient déjà des tables")
    if storage_dir.is_dir() and any(storage_dir.iterdir()):
        occupied.append(f"le stockage {storage_dir} contient déjà des fichiers")
    if occupied and not wipe:
        raise BackupError(
            "la cible n'est pas vide (" + " ; ".join(occupied) + ") : relancez avec --wipe pour "
            "l'effacer et la remplacer par la sauvegarde. Rien n'a été modifié."
        )

    database_file = source / manifest["database"]["file"]
    if kind == "postgresql":
        if wipe:
            _pg_wipe(database_url)
        _pg_restore(database_url, database_file)
    else:
        target = _sqlite_path(database_url, must_exist=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        # The online backup API overwrites every page of the target: nothing old survives.
        _sqlite_copy(database_file, target)

    if wipe and storage_dir.is_dir():
        _empty(storage_dir)
    storage_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for name, entry in sorted(manifest["files"].items()):
        stored = _stored_name(name)
        if stored is None:
            continue  # the database copy
        copy = storage_dir / stored[:2] / stored[2:4] / stored
        copy.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        described = _copy_file(source / name, copy, FILE_MODE)
        if described["sha256"] != entry["sha256"]:  # changed since verify_backup read it
            raise BackupError(f"{name} a changé pendant la restauration : relancez-la avec --wipe.")
    return manifest


def head_revision(database_url: str) -> str | None:
    from alembic.script import ScriptDirectory

    from .migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def _check_known_revision(database_url: str, revision: str | None) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from .migrate import alembic_config

    if revision is None:
        return
    try:
        ScriptDirectory.from_config(alembic_config(database_url)).get_revision(revision)
    except CommandError:
        raise BackupError(
            f"la sauvegarde est à la révision de schéma {revision}, inconnue de cette version de "
            "l'application : restaurez-la avec la version qui l'a produite."
        ) from None


def _has_tables(database_url: str, kind: str) -> bool:
    if kind == "sqlite" and not _sqlite_path(database_url, must_exist=False).exists():
        return False
    engine = make_engine(database_url)
    try:
        return bool(inspect(engine).get_table_names())
    except DBAPIError as exc:
        raise _unreachable(exc) from None
    finally:
        engine.dispose()


# SQLite ------------------------------------------------------------------------------------------


def _sqlite_path(database_url: str, *, must_exist: bool) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("une base SQLite en mémoire ne se sauvegarde ni ne se restaure.")
    path = Path(database)
    if must_exist and not path.is_file():
        raise BackupError(f"base SQLite introuvable : {path}")
    return path


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy a database page by page with SQLite's online backup API (safe while in use)."""
    uri = source.resolve().as_uri() + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as origin, closing(sqlite3.connect(destination)) as copy:
            origin.backup(copy)
            result = copy.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise BackupError(f"copie SQLite impossible : {exc}") from None
    if result != "ok":
        raise BackupError(f"la copie SQLite est abîmée (quick_check : {result}).")


# PostgreSQL ----------------------------------------------------------------------------------------


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq address without the password, which goes through the environment instead:
    a password on a command line is visible to every user of the machine."""
    url: URL = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return address, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} introuvable : installez le client PostgreSQL (paquet postgresql-client, de la même "
            "version majeure que le serveur ou plus récent)."
        )
    return path


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} a échoué (code {result.returncode}) : {result.stderr.strip()}")
    return result.stdout


def _pg_dump(database_url: str, destination: Path) -> str:
    pg_dump = _tool("pg_dump")
    address, env = _libpq(database_url)
    _run([pg_dump, "--format=custom", "--file", str(destination), "--dbname", address], env)
    return _run([pg_dump, "--version"], env).strip()


def _pg_restore(database_url: str, dump: Path) -> None:
    address, env = _libpq(database_url)
    # Owners and grants are those of the restoring account: the target server may not have
    # the original roles. One transaction: a failed restore leaves no half-filled schema.
    _run([_tool("pg_restore"), "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error",
          "--dbname", address, str(dump)], env)


# Everything of ours in the current schema, tables first (their sequences, triggers and
# views go with them); objects belonging to extensions are left alone.
_PG_OBJECTS = """
SELECT kind, name FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                          WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
           format('%I.%I', n.nspname, c.relname) AS name, c.oid AS oid,
           CASE c.relkind WHEN 'S' THEN 2 ELSE 1 END AS rank
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
           p.oid::regprocedure::text, p.oid, 3
      FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text, t.oid, 4
      FROM pg_type t
     WHERE t.typnamespace = current_schema()::regnamespace AND t.typtype IN ('e', 'd', 'r')
) AS objects
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = objects.oid AND d.deptype = 'e')
ORDER BY rank, name
"""


def _pg_wipe(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for kind, name in connection.execute(text(_PG_OBJECTS)).all():
                # CASCADE may already have dropped it (a table's sequence, a trigger's function).
                connection.execute(text(f"DROP {kind} IF EXISTS {name} CASCADE"))
    finally:
        engine.dispose()


# Files ---------------------------------------------------------------------------------------------


def _empty(directory: Path) -> None:
    """Delete what ``directory`` holds (symbolic links themselves, never their targets)."""
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(path: Path) -> dict[str, Any]:
    return {"sha256": _sha256(path), "size": path.stat().st_size}


def _copy_file(source: Path, destination: Path, mode: int) -> dict[str, Any]:
    """Copy through a temporary name, hashing what was written."""
    digest = hashlib.sha256()
    size = 0
    temporary = destination.with_name(f".tmp-{destination.name}")
    with source.open("rb") as reader, temporary.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    os.chmod(temporary, mode)
    os.replace(temporary, destination)
    return {"sha256": digest.hexdigest(), "size": size}
