"""Where uploaded pièces and generated PDFs are kept: random names, outside the web root.

The database holds the user-facing name, type and SHA-256 of each file; the store only
knows opaque names, so nothing a user types ever becomes part of a path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

NAME_BYTES = 16
NAME_PATTERN = re.compile(rf"[0-9a-f]{{{2 * NAME_BYTES}}}")
FILE_MODE = 0o640
DIR_MODE = 0o750
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    sha256: str


class FileStore(Protocol):
    """A place to keep immutable files under names the store chooses."""

    def save(self, data: bytes) -> StoredFile: ...

    def open(self, name: str) -> BinaryIO: ...

    def read(self, name: str) -> bytes: ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_name(name: object) -> str:
    """``name`` if it is a name this store could have chosen; ValueError otherwise."""
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise ValueError(f"invalid storage name: {name!r}")
    return name


class LocalFileStore(FileStore):
    """Files under ``root/ab/cd/abcd…``: two levels keep every directory small."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        name = check_name(name)
        return self.root / name[:2] / name[2:4] / name

    def save(self, data: bytes) -> StoredFile:
        """Write ``data`` under a new random name, atomically: readers see all of it or nothing."""
        name = secrets.token_hex(NAME_BYTES)
        target = self.path(name)
        while target.exists():  # 128 random bits: only a broken random source gets here
            name = secrets.token_hex(NAME_BYTES)
            target = self.path(name)
        self.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for directory in (target.parent.parent, target.parent):
            directory.mkdir(mode=DIR_MODE, exist_ok=True)
        # The temporary file lives in the target's directory so os.replace is a same-disk rename.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_directory(target.parent)
        return StoredFile(name=name, size=len(data), sha256=sha256_hex(data))

    def open(self, name: str) -> BinaryIO:
        return self.path(name).open("rb")

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def delete(self, name: str) -> None:
        """Remove the file; deleting a file that is already gone is not an error."""
        self.path(name).unlink(missing_ok=True)

    def verify(self, name: str, sha256: str) -> bool:
        """Whether the stored file exists and its content still has this SHA-256."""
        digest = hashlib.sha256()
        try:
            with self.open(name) as stream:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == sha256.lower()


def store_for(root: str | Path) -> LocalFileStore:
    return LocalFileStore(root)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; some platforms cannot open a directory, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def current_store() -> LocalFileStore:
    """The store of the running application (``GRANTS_STORAGE_DIR``)."""
    from flask import current_app

    return store_for(current_app.config["GRANTS_STORAGE_DIR"])
