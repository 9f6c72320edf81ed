"""What PostgreSQL's backends are doing during a scenario: sampled from pg_stat_activity."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

SAMPLE = text("""
    SELECT count(*) FILTER (WHERE state = 'active'),
           count(*) FILTER (WHERE wait_event_type = 'Lock'),
           count(*) FILTER (WHERE state = 'idle in transaction')
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
""")


class LockWatch:
    """Every ``interval`` seconds, how many of the app's backends are running a statement,
    waiting for a lock (row or table: e.g. the reference counter), or idle in a transaction
    (the app working between two statements of an open transaction)."""

    def __init__(self, database_url: str, interval: float = 0.1) -> None:
        self.engine = create_engine(database_url, poolclass=NullPool)
        self.interval = interval
        self.samples: list[tuple[int, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.is_set():
                self.samples.append(tuple(conn.execute(SAMPLE).one()))  # type: ignore[arg-type]
                conn.rollback()
                self._stop.wait(self.interval)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {}
        n = len(self.samples)
        return {
            "samples": n,
            "active_mean": round(sum(s[0] for s in self.samples) / n, 2),
            "waiting_on_lock_mean": round(sum(s[1] for s in self.samples) / n, 2),
            "waiting_on_lock_max": max(s[1] for s in self.samples),
            "idle_in_transaction_mean": round(sum(s[2] for s in self.samples) / n, 2),
        }
