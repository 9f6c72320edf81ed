"""Browser tests: Debian's Chromium, driven by Playwright, against the app served by
gunicorn on a free 127.0.0.1 port, on its own fresh database loaded with the demo data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if not Path(CHROMIUM).exists():
                item.add_marker(pytest.mark.skip(
                    reason=f"Chromium absent ({CHROMIUM}): install it with `apt-get install -y chromium` "
                    "(CI's .ci/run does)"
                ))


class LiveServer:
    def __init__(self, url: str, env: dict[str, str], log: Path) -> None:
        self.url = url
        self.env = env
        self.log = log

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "grants", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120, check=True,
        )


@pytest.fixture(scope="session")
def live_server(fresh_databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium absent")
    work = tmp_path_factory.mktemp("live")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_databases.new("browser"),
        "SECRET_KEY": "browser-tests-secret",
        "GRANTS_INSTANCE_DIR": str(work),
        "GRANTS_STORAGE_DIR": str(work / "storage"),
        "GRANTS_BASE_URL": f"http://127.0.0.1:{port}",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "256",
        "RATELIMIT_LOGIN": "1000 per minute",
        "RATELIMIT_LOGIN_FAILURES": "10000 per hour",
        "RATELIMIT_PER_ADDRESS": "10000 per hour",
    }
    env.pop("MAIL_SERVER", None)
    server = LiveServer(f"http://127.0.0.1:{port}", env, work / "server.log")
    server.cli("db", "upgrade")
    server.cli("demo-data")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log = server.log.open("w")
    process = subprocess.Popen(
        [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4", "--timeout", "60", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{server.url}/sante", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{server.log.read_text()}") from None
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def seed(live_server):  # type: ignore[no-untyped-def]
    """``seed(kind)``: data of the test's own in the live database (tests/browser/seed.py)."""

    def make(kind: str) -> dict[str, object]:
        result = subprocess.run(
            [sys.executable, "-m", "tests.browser.seed", kind], cwd=ROOT, env=live_server.env,
            capture_output=True, text=True, timeout=120, check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    return make


def login(page, live_server: LiveServer, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/compte/connexion")
    page.get_by_role("textbox", name="Adresse électronique").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("networkidle")
