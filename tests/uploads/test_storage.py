"""Local file store: random names, two-level layout, atomic writes, names checked on every access."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from grants import storage
from grants.storage import FileStore, LocalFileStore, StoredFile, sha256_hex, store_for

DATA = b"%PDF-1.4\n% pi\xc3\xa8ce jointe\n%%EOF\n"


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_save_then_read_round_trip(tmp_path):
    store: FileStore = store_for(tmp_path)
    stored = store.save(DATA)
    assert stored == StoredFile(name=stored.name, size=len(DATA), sha256=hashlib.sha256(DATA).hexdigest())
    assert store.read(stored.name) == DATA
    with store.open(stored.name) as stream:
        assert stream.read() == DATA
    assert store.exists(stored.name)


def test_names_are_random_lowercase_hex_and_unique(tmp_path):
    store = store_for(tmp_path)
    names = {store.save(DATA).name for _ in range(50)}
    assert len(names) == 50
    assert all(len(name) == 32 and name == name.lower() and int(name, 16) >= 0 for name in names)


def test_files_live_in_two_level_subfolders_with_restricted_mode(tmp_path):
    store = store_for(tmp_path / "instance" / "storage")
    name = store.save(DATA).name
    path = tmp_path / "instance" / "storage" / name[:2] / name[2:4] / name
    assert store.path(name) == path
    assert path.read_bytes() == DATA
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_saving_leaves_no_temporary_file(tmp_path):
    store = store_for(tmp_path)
    names = {store.save(DATA + bytes([index])).name for index in range(20)}
    assert {path.name for path in files_under(tmp_path)} == names


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    store = store_for(tmp_path)

    def failing_replace(source: str, target: str) -> None:
        raise OSError("disque plein")

    monkeypatch.setattr(storage.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disque plein"):
        store.save(DATA)
    assert files_under(tmp_path) == []


def test_file_appears_complete_or_not_at_all(tmp_path, monkeypatch):
    """At the moment of the rename the temporary file already holds every byte."""
    store = store_for(tmp_path)
    seen: list[bytes] = []
    real_replace = os.replace

    def watching_replace(source: str, target: str) -> None:
        assert not Path(target).exists()
        seen.append(Path(source).read_bytes())
        real_replace(source, target)

    monkeypatch.setattr(storage.os, "replace", watching_replace)
    store.save(DATA)
    assert seen == [DATA]


def test_verify_checks_the_content_against_its_sha256(tmp_path):
    store = store_for(tmp_path)
    stored = store.save(DATA)
    assert store.verify(stored.name, stored.sha256)
    assert store.verify(stored.name, stored.sha256.upper())
    store.path(stored.name).write_bytes(DATA + b"modifie")
    assert not store.verify(stored.name, stored.sha256)
    store.delete(stored.name)
    assert not store.verify(stored.name, stored.sha256)


def test_read_does_not_verify_anything(tmp_path):
    store = store_for(tmp_path)
    stored = store.save(DATA)
    store.path(stored.name).write_bytes(b"autre chose")
    assert store.read(stored.name) == b"autre chose"


def test_delete_removes_the_file_and_may_be_repeated(tmp_path):
    store = store_for(tmp_path)
    name = store.save(DATA).name
    store.delete(name)
    assert not store.exists(name)
    store.delete(name)
    with pytest.raises(FileNotFoundError):
        store.read(name)


def test_sha256_hex():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


VALID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../etc/passwd",
        "../../" + VALID,
        "01/23/" + VALID,
        "/etc/passwd",
        VALID.upper(),
        VALID[:-1],
        VALID + "0",
        VALID + "\n",
        "g" * 32,
        VALID[:-1] + "\x00",
        "０" * 32,
        None,
        123,
    ],
)
@pytest.mark.parametrize("method", ["open", "read", "exists", "delete", "path"])
def test_names_the_store_could_not_have_chosen_are_refused(tmp_path, name, method):
    store = store_for(tmp_path)
    with pytest.raises(ValueError):
        getattr(store, method)(name)


def test_verify_refuses_bad_names_too(tmp_path):
    with pytest.raises(ValueError):
        store_for(tmp_path).verify("../" + VALID, "0" * 64)


def test_store_for_roots_a_local_store(tmp_path):
    store = store_for(str(tmp_path / "x"))
    assert isinstance(store, LocalFileStore)
    assert store.root == tmp_path / "x"
    assert not (tmp_path / "x").exists()
    store.save(DATA)
    assert (tmp_path / "x").is_dir()
