"""The app under gunicorn, as in production (README "Production deployment"), on a free port."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str, storage_dir: str, instance_dir: str) -> dict[str, str]:
    """Production settings; only the login rate limit is lifted, since every simulated
    user logs in from 127.0.0.1 (in production the limit is per client address)."""
    env = dict(os.environ)
    env.update({
        "GRANTS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "GRANTS_STORAGE_DIR": storage_dir,
        "GRANTS_INSTANCE_DIR": instance_dir,
        "GRANTS_BASE_URL": "https://parcours-qpv.example",
        "GRANTS_TRUSTED_HOSTS": "127.0.0.1",  # the simulated browsers connect to 127.0.0.1:<port>
        "RATELIMIT_LOGIN": "100000 per minute",
        "RATELIMIT_LOGIN_FAILURES": "100000 per hour",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
    })
    for name in ("MAIL_SERVER", "ARGON2_TIME_COST", "ARGON2_MEMORY_COST"):
        env.pop(name, None)  # e-mails go to the log; password hashing at production cost
    return env


class Server:
    """``gunicorn --workers W --threads T bench.wsgi:app`` on 127.0.0.1:<free port>."""

    def __init__(self, database_url: str, storage_dir: str, instance_dir: str, log_path: Path, *,
                 workers: int = 2, threads: int = 4) -> None:
        self.port = free_port()
        self.workers, self.threads = workers, threads
        self.env = server_environment(database_url, storage_dir, instance_dir)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--threads", str(self.threads),
            "--worker-class", "gthread", "--bind", f"127.0.0.1:{self.port}", "--keep-alive", "30",
            "--timeout", "120", "--graceful-timeout", "5", "--chdir", str(ROOT), "bench.wsgi:app",
        ]

    def start(self, timeout: float = 60.0) -> None:
        log = self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with code {self.process.returncode}; see {self.log_path}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/sante")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer on port {self.port} within {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def worker_peak_rss_mb(self) -> list[float]:
        """Peak resident memory (VmHWM) of each worker so far."""
        peaks = []
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(round(int(line.split()[1]) / 1024, 1))
            except OSError:
                continue
        return peaks

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
