"""A gunicorn worker killed (SIGKILL) in the middle of a submission leaves the dossier either
fully submitted (reference, frozen version with its SHA-256, stored receipt) or still an
untouched draft, never in between; ``grants check-integrity`` agrees, and the draft can be
submitted again afterwards without leaving a gap in the reference numbers.

PostgreSQL only: the moment "in the middle" is seen in ``pg_stat_activity`` (the worker's
transaction has written, an xid is assigned, and not committed yet), which SQLite has no
equivalent of.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bench.client import Browser
from bench.server import Server
from grants.migrate import upgrade
from grants.storage import store_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="PostgreSQL only (TEST_DATABASE_URL): the crash point is read from pg_stat_activity",
)
# "written": kill as soon as the submission's transaction has written and not committed;
# the numbers: kill that many seconds after the request was sent (before, during, after).
KILL_POINTS: list[str | float] = ["written", "written", "written", "written", 0.0, 0.03, 0.08, 0.15, 0.3, 0.6, 1.5]


@dataclass
class Site:
    database_url: str
    storage: Path
    server: Server
    data: dict[str, Any]
    engine: Any = field(default=None)

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": self.database_url, "GRANTS_STORAGE_DIR": str(self.storage)}
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def site(fresh_databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    url = fresh_databases.new("crash")
    upgrade(url)
    work = tmp_path_factory.mktemp("crash")
    storage = work / "storage"
    made = subprocess.run([sys.executable, "-m", "tests.reliability.crash_data", url, str(storage), str(len(KILL_POINTS))],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    server = Server(url, str(storage), str(work), work / "gunicorn.log", workers=1, threads=1)
    server.start()
    engine = create_engine(url)
    try:
        yield Site(url, storage, server, json.loads(made.stdout.strip().splitlines()[-1]), engine)
    finally:
        server.stop()
        engine.dispose()


def writing_backends(site: Site) -> int:
    """Backends of the app whose open transaction has written something."""
    with site.engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )).scalar_one()


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/sante")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def dossier_row(site: Site, dossier_id: int) -> dict[str, Any]:
    with site.engine.connect() as conn:
        row = conn.execute(text("SELECT state, reference, submitted_at FROM dossiers WHERE id = :id"),
                           {"id": dossier_id}).mappings().one()
        versions = conn.execute(text("SELECT sha256, receipt_file, receipt_sha256 FROM dossier_versions "
                                     "WHERE dossier_id = :id"), {"id": dossier_id}).mappings().all()
    return {**row, "versions": [dict(v) for v in versions]}


def submit_and_kill(site: Site, browser: Browser, dossier_id: int, point: str | float) -> dict[str, Any]:
    """Send the submission, SIGKILL the worker at ``point``; what the client and the server saw."""
    [worker] = site.server.worker_pids()
    outcome: dict[str, Any] = {"point": point, "caught_writing": False}

    def send() -> None:
        try:
            reply = browser.post(f"/porteur/dossiers/{dossier_id}/deposer", {"version": 1})
            outcome["reply"] = reply.status
        except OSError as exc:  # the connection dies with the worker
            outcome["reply"] = type(exc).__name__

    thread = threading.Thread(target=send)
    thread.start()
    if point == "written":
        try:
            wait_for(lambda: writing_backends(site) > 0, 20, "the submission's transaction to write")
            outcome["caught_writing"] = True
        except AssertionError:
            pass  # finished before we looked: recorded, judged below
    else:
        time.sleep(float(point))
    os.kill(worker, signal.SIGKILL)
    thread.join(30)
    browser.close()
    # gunicorn's arbiter starts a new worker; PostgreSQL rolls the dead one's transaction back.
    wait_for(lambda: site.server.worker_pids() not in ([], [worker]), 30, "a new worker")
    wait_for(lambda: writing_backends(site) == 0, 30, "the killed transaction to end")
    wait_for(lambda: healthy(site.server.port), 30, "the new worker to answer")
    outcome["dossier"] = dossier_row(site, dossier_id)
    return outcome


def assert_all_or_nothing(site: Site, row: dict[str, Any]) -> str:
    store = store_for(site.storage)
    if row["state"] == "draft":
        assert row["reference"] is None and row["submitted_at"] is None and row["versions"] == [], row
        return "draft"
    assert row["state"] == "submitted", row
    assert row["reference"] and row["submitted_at"], row
    [version] = row["versions"]
    assert version["sha256"] and version["receipt_file"], row
    assert store.verify(version["receipt_file"], version["receipt_sha256"]), "receipt stored with its SHA-256"
    return "submitted"


@pytest.fixture
def browser(site: Site) -> Iterator[Browser]:
    client = Browser("127.0.0.1", site.server.port, timeout=60)
    client.login(site.data["email"], site.data["password"])
    yield client
    client.close()


def test_a_killed_worker_never_leaves_a_half_submitted_dossier(site: Site, browser: Browser) -> None:
    outcomes = [submit_and_kill(site, browser, dossier_id, point)
                for dossier_id, point in zip(site.data["drafts"], KILL_POINTS, strict=True)]

    states = [assert_all_or_nothing(site, o["dossier"]) for o in outcomes]
    caught = [o for o in outcomes if o["caught_writing"]]
    assert caught, "no submission was caught in the middle of its transaction"
    for outcome in caught:
        # Killed with its transaction open: nothing of it remains.
        assert outcome["dossier"]["state"] == "draft", outcome
    assert "submitted" in states, f"no submission completed before its kill: {outcomes}"

    check = site.flask("check-integrity")
    assert check.returncode == 0, check.stdout + check.stderr

    # The user sends again what was lost: it goes through, and the numbers have no gap.
    for dossier_id, state in zip(site.data["drafts"], states, strict=True):
        if state == "draft":
            reply = browser.post(f"/porteur/dossiers/{dossier_id}/deposer", {"version": 1})
            assert reply.status == 302 and reply.location.endswith(f"/porteur/dossiers/{dossier_id}"), reply.status
    references = sorted(dossier_row(site, d)["reference"] for d in site.data["drafts"])
    numbers = [int(r.rsplit("-", 1)[1]) for r in references]
    assert numbers == list(range(1, len(numbers) + 1)), references
    check = site.flask("check-integrity")
    assert check.returncode == 0, check.stdout + check.stderr
