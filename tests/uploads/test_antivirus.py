"""Antivirus scan through a real clamd, started here with a one-line signature database.

No signature download exists on this machine: the database holds one custom signature, so
"infected" means "contains the marker below". Where clamd is not installed (Debian package
clamav-daemon, which CI installs), these tests are skipped with that reason.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from grants.antivirus import ClamdScanner, ScannerUnavailable, ScanStatus
from grants.dossier_sections import missing_items
from grants.models import Attachment, AuditEntry, Dossier, Message
from tests.conftest import SAMPLE_PDF

CLAMD = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None)
MARKER = b"PARCOURS-QPV-TEST-VIRUS"
SIGNATURE = "Grants.Test.Signature"
# A valid PDF (the type checks pass) that carries the marker in a comment.
INFECTED_PDF = SAMPLE_PDF.replace(b"%PDF-1.4\n", b"%PDF-1.4\n%" + MARKER + b"\n", 1)
NO_SOCKET = "/nonexistent/clamd.ctl"

pytestmark = pytest.mark.skipif(CLAMD is None, reason="clamd absent: apt-get install clamav-daemon (CI installs it)")


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A clamd of our own, on a Unix socket in a temporary folder, with one signature."""
    root = tmp_path_factory.mktemp("clamd")
    (root / "db").mkdir()
    (root / "db" / "grants.ndb").write_text(f"{SIGNATURE}:0:*:{MARKER.hex()}\n")
    socket = root / "clamd.sock"
    config = root / "clamd.conf"
    config.write_text(
        f"DatabaseDirectory {root / 'db'}\nLocalSocket {socket}\nForeground yes\n"
        f"LogFile {root / 'clamd.log'}\nTemporaryDirectory {root}\nStreamMaxLength 20M\n"
    )
    process = subprocess.Popen([CLAMD, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            ClamdScanner(str(socket), timeout=5).scan(b"ping")
            break
        except ScannerUnavailable:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log = (root / "clamd.log").read_text() if (root / "clamd.log").exists() else ""
                pytest.skip(f"clamd could not start here: {log[-300:]}")
            time.sleep(0.2)
    yield str(socket)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def scanning(app, clamd_socket, monkeypatch):  # type: ignore[no-untyped-def]
    """The app scans uploads with the test clamd; returns a switch to make it unreachable."""

    def reachable(yes: bool = True) -> None:
        monkeypatch.setitem(app.config, "CLAMD_SOCKET", clamd_socket if yes else NO_SOCKET)

    reachable(True)
    return reachable


def upload(client, dossier_id: int, name: str, data: bytes, type_code: str = "statuts"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/porteur/dossiers/{dossier_id}/pieces",
        data={f"file_{type_code}": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def stored_files(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.name for p in Path(app.config["GRANTS_STORAGE_DIR"]).rglob("*") if p.is_file()}


def test_scanner_verdicts(clamd_socket):  # type: ignore[no-untyped-def]
    scanner = ClamdScanner(clamd_socket)
    assert scanner.scan(SAMPLE_PDF).status is ScanStatus.clean
    verdict = scanner.scan(INFECTED_PDF)
    assert (verdict.status, verdict.signature) == (ScanStatus.infected, f"{SIGNATURE}.UNOFFICIAL")
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(NO_SOCKET).scan(SAMPLE_PDF)


def test_infected_upload_is_refused_and_nothing_is_stored(app, client, db, login_as, users, make_dossier, scanning):  # type: ignore[no-untyped-def]
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    before = stored_files(app)
    response = upload(client, dossier.id, "statuts.pdf", INFECTED_PDF)
    assert response.status_code == 422
    page = text(response)
    assert "l'antivirus y a détecté « Grants.Test.Signature.UNOFFICIAL »" in page
    assert "n'a pas été enregistré" in page
    assert stored_files(app) == before
    assert db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.dossier_id == dossier.id)) == 0


def test_clean_upload_is_marked_clean_and_served(client, db, login_as, users, make_dossier, scanning):  # type: ignore[no-untyped-def]
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    assert upload(client, dossier.id, "statuts.pdf", SAMPLE_PDF).status_code == 302
    db.session.remove()
    [attachment] = db.session.get(Dossier, dossier.id).current_attachments
    assert attachment.scan_status is ScanStatus.clean and attachment.scanned_at is not None
    download = client.get(f"/dossiers/{dossier.id}/pieces/{attachment.id}")
    assert download.status_code == 200 and download.data == SAMPLE_PDF


def test_unreachable_antivirus_keeps_the_file_pending_until_a_scan(client, db, login_as, users, make_dossier, scanning):  # type: ignore[no-untyped-def]
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    scanning(False)
    response = upload(client, dossier.id, "statuts.pdf", SAMPLE_PDF)
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "L'analyse antivirus n'a pas pu être faite pour l'instant" in page
    assert "Analyse antivirus en attente" in page
    db.session.remove()
    [attachment] = db.session.get(Dossier, dossier.id).current_attachments
    assert attachment.scan_status is ScanStatus.pending
    url = f"/dossiers/{dossier.id}/pieces/{attachment.id}"
    for path in (url, f"{url}/apercu"):
        refused = client.get(path)
        assert refused.status_code == 409
        assert "l'antivirus n'a pas encore pu l'analyser" in text(refused)
        assert refused.data != SAMPLE_PDF
    scanning(True)  # clamd is back: the next download scans the file first
    download = client.get(url)
    assert download.status_code == 200 and download.data == SAMPLE_PDF
    db.session.remove()
    assert db.session.get(Attachment, attachment.id).scan_status is ScanStatus.clean


def test_scan_pending_blocks_a_file_found_infected_later(app, client, db, login_as, users, make_dossier, scanning):  # type: ignore[no-untyped-def]
    dossier = make_dossier(users["applicant"], attachments=False)
    login_as(users["applicant"])
    for item in dossier.call.required_attachments:
        assert upload(client, dossier.id, f"{item['code']}.pdf", SAMPLE_PDF, item["code"]).status_code == 302
    scanning(False)
    assert upload(client, dossier.id, "statuts.pdf", INFECTED_PDF, "statuts").status_code == 302  # replaces it
    db.session.remove()
    assert missing_items(db.session.get(Dossier, dossier.id))["attachments"] == []  # pending counts, for now

    runner = app.test_cli_runner()
    result = runner.invoke(args=["grants", "scan-pending"])
    assert result.exit_code == 1 and "antivirus injoignable" in result.output  # still away
    scanning(True)
    result = runner.invoke(args=["grants", "scan-pending"])
    assert result.exit_code == 0, result.output
    assert "0 fichier(s) sain(s), 1 bloqué(s)" in result.output
    assert "Grants.Test.Signature.UNOFFICIAL" in result.output

    db.session.remove()
    dossier = db.session.get(Dossier, dossier.id)
    infected = next(a for a in dossier.current_attachments if a.type_code == "statuts")
    assert (infected.scan_status, infected.scan_signature) == (ScanStatus.infected, f"{SIGNATURE}.UNOFFICIAL")
    assert "Pièce manquante : Statuts de la structure." in missing_items(dossier)["attachments"]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.attachment_scan_infected",
                                                      AuditEntry.object_id == dossier.id)) is not None
    refused = client.get(f"/dossiers/{dossier.id}/pieces/{infected.id}")
    assert refused.status_code == 403
    assert "L'antivirus a détecté « Grants.Test.Signature.UNOFFICIAL »" in text(refused)
    page = text(client.get(f"/porteur/dossiers/{dossier.id}/pieces"))
    assert "Bloqué par l'antivirus : Grants.Test.Signature.UNOFFICIAL" in page


def test_scan_pending_needs_a_configured_antivirus(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", None)
    result = app.test_cli_runner().invoke(args=["grants", "scan-pending"])
    assert result.exit_code == 2 and "aucun antivirus configuré" in result.output


def test_message_attachments_are_scanned_too(client, db, login_as, users, make_submitted, scanning):  # type: ignore[no-untyped-def]
    dossier = make_submitted(users["applicant"])
    login_as(users["officer"])
    url = f"/dossiers/{dossier.id}/messages"

    def send(data: bytes):  # type: ignore[no-untyped-def]
        return client.post(url, data={"body": "Voir la pièce.", "attachment": (BytesIO(data), "note.pdf")},
                           content_type="multipart/form-data")

    refused = send(INFECTED_PDF)
    assert refused.status_code == 422
    assert "l'antivirus y a détecté" in text(refused)
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.dossier_id == dossier.id)) == 0

    scanning(False)
    assert send(SAMPLE_PDF).status_code == 302
    db.session.remove()
    message = db.session.scalar(select(Message).where(Message.dossier_id == dossier.id))
    assert message.attachment_scan_status is ScanStatus.pending
    piece = f"{url}/{message.id}/piece"
    assert client.get(piece).status_code == 409
    scanning(True)
    assert client.get(piece).data == SAMPLE_PDF
