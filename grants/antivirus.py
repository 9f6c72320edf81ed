"""Optional antivirus scan of uploaded files through ClamAV's daemon (clamd).

With ``GRANTS_CLAMD_SOCKET`` set, every uploaded file is scanned before it is stored: an
infected file is refused with the signature's name; when clamd cannot be reached the file
is kept as ``pending`` (nothing the user sent is lost) and nobody can download it until a
later scan (on the next download attempt, or ``flask grants scan-pending``) finds it clean.
Without the setting, files are recorded as ``unchecked`` and served as before.
"""

from __future__ import annotations

import enum
import io
import socket
from dataclasses import dataclass
from typing import Protocol

from clamdpy import ClamdNetworkSocket, ClamdUnixSocket
from clamdpy.exceptions import ClamdException
from clamdpy.exceptions import ConnectionError as ClamdConnectionError

from .uploads import UploadRefused

CHUNK_BYTES = 64 * 1024


class ScanStatus(enum.Enum):
    unchecked = "unchecked"  # no antivirus configured when the file arrived
    pending = "pending"  # antivirus configured, scan not done yet (clamd unreachable)
    clean = "clean"
    infected = "infected"

    @property
    def downloadable(self) -> bool:
        return self in (ScanStatus.unchecked, ScanStatus.clean)

    @property
    def title(self) -> str:
        return SCAN_TITLES[self]


SCAN_TITLES = {
    ScanStatus.unchecked: "Non analysé (antivirus non configuré)",
    ScanStatus.pending: "Analyse antivirus en attente",
    ScanStatus.clean: "Analysé par l'antivirus : sain",
    ScanStatus.infected: "Bloqué par l'antivirus",
}


class ScannerUnavailable(RuntimeError):
    """clamd could not give a verdict (not running, timeout, error on its side)."""


@dataclass(frozen=True)
class Verdict:
    status: ScanStatus
    signature: str | None = None


class Scanner(Protocol):
    def scan(self, data: bytes) -> Verdict: ...


class _UnixSocket(ClamdUnixSocket):
    """clamdpy 0.2 leaves the socket open when the connection fails: close it."""

    def _acquire_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(str(self.socket_path))
        except OSError as exc:
            sock.close()
            raise ClamdConnectionError(f"Error while connecting to {self.socket_path}: {exc}") from exc
        return sock


class _NetworkSocket(ClamdNetworkSocket):
    def _acquire_socket(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ClamdConnectionError(f"Error while connecting to {self.host}:{self.port}: {exc}") from exc


class ClamdScanner:
    """clamd over a Unix socket (``/run/clamav/clamd.ctl``) or TCP (``tcp://host:3310``)."""

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout

    def _client(self) -> ClamdNetworkSocket:
        if self.address.startswith("tcp://"):
            host, _, port = self.address.removeprefix("tcp://").rpartition(":")
            return _NetworkSocket(host=host, port=int(port), timeout=self.timeout, max_chunk_size=CHUNK_BYTES)
        return _UnixSocket(path=self.address, timeout=self.timeout, max_chunk_size=CHUNK_BYTES)

    def scan(self, data: bytes) -> Verdict:
        try:
            result = self._client().instream(io.BytesIO(data))
        except (ClamdException, OSError) as exc:
            raise ScannerUnavailable(str(exc)) from exc
        if result.status == "OK":
            return Verdict(ScanStatus.clean)
        if result.status == "FOUND":
            return Verdict(ScanStatus.infected, (result.reason or "signature inconnue")[:200])
        raise ScannerUnavailable(result.reason or "clamd error")


def scan_upload(scanner: Scanner | None, data: bytes) -> Verdict:
    """The verdict on an uploaded file before it is stored: ``unchecked`` without a scanner,
    ``pending`` if it is unreachable, ``clean``; an infected file raises
    :class:`~grants.uploads.UploadRefused` with the French reason, like any refused upload."""
    if scanner is None:
        return Verdict(ScanStatus.unchecked)
    try:
        verdict = scanner.scan(data)
    except ScannerUnavailable:
        return Verdict(ScanStatus.pending)
    if verdict.status is ScanStatus.infected:
        raise UploadRefused(
            f"l'antivirus y a détecté « {verdict.signature} ». Le fichier n'a pas été enregistré : "
            "vérifiez-le sur votre poste et envoyez une version saine."
        )
    return verdict


def scanner_for(address: str | None, timeout: float = 30.0) -> ClamdScanner | None:
    return ClamdScanner(address, timeout) if address else None


def current_scanner() -> ClamdScanner | None:
    """The scanner of the running app's configuration (``GRANTS_CLAMD_SOCKET``), or None."""
    from flask import current_app

    return scanner_for(current_app.config.get("CLAMD_SOCKET"), current_app.config.get("CLAMD_TIMEOUT", 30.0))
