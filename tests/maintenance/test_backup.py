"""`grants backup DIR` and `grants restore DIR`: everything comes back; a tampered backup is refused."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from grants.backup import BackupError, create_backup, head_revision, restore_backup

from .conftest import Built
from .world import database_contents, flask_cli, store_contents, wipe


@pytest.fixture(scope="module")
def source(build) -> Built:  # type: ignore[no-untyped-def]
    return build("backup")


@pytest.fixture(scope="module")
def backup(source: Built, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """A backup of the source world, with the database and storage contents it holds."""
    directory = tmp_path_factory.mktemp("backups") / "reference"
    contents, files = database_contents(source.engine), store_contents(source.storage)
    create_backup(source.url, source.storage, directory)
    return directory, contents, files


def test_backup_wipe_restore_then_check_integrity(source: Built, tmp_path: Path):
    before, files = database_contents(source.engine), store_contents(source.storage)
    target = tmp_path / "sauvegarde"

    result = flask_cli(source.url, source.storage, tmp_path, "backup", str(target))
    assert result.returncode == 0, result.stderr
    assert f"Sauvegarde écrite dans {target}" in result.stdout
    assert f"{len(files)} fichier(s) stocké(s)" in result.stdout

    wipe(source.engine, source.storage)
    assert not source.storage.exists()

    result = flask_cli(source.url, source.storage, tmp_path, "restore", str(target))
    assert result.returncode == 0, result.stderr
    assert "restaurée" in result.stdout and "check-integrity" in result.stdout
    assert database_contents(source.engine) == before
    assert store_contents(source.storage) == files

    result = flask_cli(source.url, source.storage, tmp_path, "check-integrity")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "aucun problème : 6 dossier(s), 5 version(s), 4 référence(s), 45 fichier(s)" in result.stdout


def test_manifest_lists_every_file_with_its_hash(source: Built, backup):  # type: ignore[no-untyped-def]
    directory, _contents, files = backup
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    kind = source.engine.dialect.name
    database_file = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}[kind]
    assert manifest["database"]["kind"] == kind
    assert manifest["database"]["file"] == database_file
    assert manifest["database"]["alembic_revision"] == head_revision(source.url)
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    assert set(manifest["files"]) == {database_file} | {f"storage/{name}" for name in files}
    for name, data in files.items():
        assert manifest["files"][f"storage/{name}"] == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    database_copy = (directory / database_file).read_bytes()
    assert manifest["files"][database_file]["sha256"] == hashlib.sha256(database_copy).hexdigest()
    assert manifest["storage"] == {"directory": "storage", "files": len(files),
                                   "bytes": sum(len(d) for d in files.values()), "ignored": 0}
    # Personal data: the backup is readable by its owner only.
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / database_file).stat().st_mode) == 0o600


def test_backup_refuses_a_directory_in_use(source: Built, tmp_path: Path):
    (tmp_path / "ancienne.txt").write_text("x")
    with pytest.raises(BackupError, match="n'est pas un dossier vide"):
        create_backup(source.url, source.storage, tmp_path)


def test_backup_leaves_out_interrupted_writes(source: Built, tmp_path: Path):
    storage = tmp_path / "storage"
    shutil.copytree(source.storage, storage)
    first = next(p for p in storage.rglob("*") if p.is_file())
    (first.parent / ".tmp-abcdef").write_bytes(b"partial")
    manifest = create_backup(source.url, storage, tmp_path / "b")
    assert manifest["storage"]["ignored"] == 1
    assert not any(".tmp-" in name for name in manifest["files"])


# Tampering ----------------------------------------------------------------------------------------------


def _stored(directory: Path) -> Path:
    return sorted(p for p in (directory / "storage").rglob("*") if p.is_file())[0]


def _database(directory: Path) -> Path:
    return next(directory.glob("database.*"))


def _edit_manifest(directory: Path, change: Callable[[dict], None]) -> None:
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _first_stored_entry(manifest: dict) -> dict:
    return manifest["files"][sorted(n for n in manifest["files"] if n.startswith("storage/"))[0]]


TAMPERING: dict[str, tuple[Callable[[Path], object], str]] = {
    "stored file modified": (lambda d: _stored(d).write_bytes(b"%PDF-1.4 autre contenu"), "contenu modifié"),
    "database copy modified": (
        lambda d: _database(d).write_bytes(_database(d).read_bytes() + b"\0"), "contenu modifié"),
    "stored file deleted": (lambda d: _stored(d).unlink(), "fichier manquant"),
    "file added": (lambda d: (_stored(d).parent / ("0" * 32)).write_bytes(b"ajout"), "absent du manifeste"),
    "hash edited in the manifest": (
        lambda d: _edit_manifest(d, lambda m: _first_stored_entry(m).update(sha256="0" * 64)), "contenu modifié"),
    "manifest entry outside the backup": (
        lambda d: _edit_manifest(d, lambda m: m["files"].update({"../../etc/passwd": {"sha256": "0" * 64, "size": 1}})),
        "chemin non admis"),
    "manifest missing": (lambda d: (d / "manifest.json").unlink(), "ne contient pas de manifest.json"),
    "manifest unreadable": (lambda d: (d / "manifest.json").write_text("{", encoding="utf-8"), "illisible"),
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_tampered_backup_is_refused_and_nothing_is_touched(source: Built, backup, tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    tamper, message = TAMPERING[name]
    copy = tmp_path / "copie"
    shutil.copytree(backup[0], copy)
    tamper(copy)
    before, files = database_contents(source.engine), store_contents(source.storage)
    with pytest.raises(BackupError, match=message):
        restore_backup(copy, source.url, source.storage, wipe=True)
    assert database_contents(source.engine) == before
    assert store_contents(source.storage) == files


def test_restore_command_refuses_a_tampered_backup_with_exit_2(source: Built, backup, tmp_path: Path):  # type: ignore[no-untyped-def]
    copy = tmp_path / "copie"
    shutil.copytree(backup[0], copy)
    altered = _stored(copy)
    altered.write_bytes(b"%PDF-1.4 autre contenu")
    result = flask_cli(source.url, source.storage, tmp_path, "restore", "--wipe", str(copy))
    assert result.returncode == 2
    assert "Erreur : sauvegarde refusée" in result.stderr
    assert f"{altered.relative_to(copy).as_posix()} : contenu modifié" in result.stderr
    assert "Rien n'a été restauré" in result.stderr


# Targets -----------------------------------------------------------------------------------------------------


def test_restore_over_live_data_needs_wipe_then_brings_back_the_backup(source: Built, backup):  # type: ignore[no-untyped-def]
    directory, contents, files = backup
    # Life goes on after the backup: a new row, a lost file, a stray one.
    with source.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_entries (at, action, object_type, details) "
            "VALUES (CURRENT_TIMESTAMP, 'after.backup', 'Test', '{}')"
        ))
    lost = source.storage / next(iter(files))
    lost.unlink()
    (source.storage / "egare.txt").write_text("x")
    changed = database_contents(source.engine)

    with pytest.raises(BackupError, match="--wipe"):
        restore_backup(directory, source.url, source.storage)
    assert database_contents(source.engine) == changed

    source.engine.dispose()
    restore_backup(directory, source.url, source.storage, wipe=True)
    assert database_contents(source.engine) == contents
    assert store_contents(source.storage) == files


def test_restore_refuses_another_kind_of_database(source: Built, backup, tmp_path: Path):  # type: ignore[no-untyped-def]
    other = ("postgresql+psycopg://nobody@127.0.0.1:1/none" if source.engine.dialect.name == "sqlite"
             else f"sqlite:///{tmp_path / 'other.sqlite3'}")
    with pytest.raises(BackupError, match="restaurez vers le même type de base"):
        restore_backup(backup[0], other, tmp_path / "storage")


def test_restore_refuses_a_schema_this_code_does_not_know(source: Built, backup, tmp_path: Path):  # type: ignore[no-untyped-def]
    copy = tmp_path / "copie"
    shutil.copytree(backup[0], copy)
    _edit_manifest(copy, lambda m: m["database"].update(alembic_revision="0123456789ab"))
    with pytest.raises(BackupError, match="révision de schéma 0123456789ab, inconnue"):
        restore_backup(copy, source.url, source.storage, wipe=True)


def test_backup_refuses_to_write_into_the_storage_it_copies(source: Built):
    with pytest.raises(BackupError, match="dans le stockage qu'elle copie"):
        create_backup(source.url, source.storage, source.storage / "sauvegarde")
    assert not (source.storage / "sauvegarde").exists()


def test_failed_backup_leaves_no_half_backup(source: Built, tmp_path: Path):
    broken = (f"sqlite:///{tmp_path / 'absente.sqlite3'}" if source.engine.dialect.name == "sqlite"
              else source.url.rsplit("/", 1)[0] + "/base_absente")
    with pytest.raises(BackupError):
        create_backup(broken, source.storage, tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []
