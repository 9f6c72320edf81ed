"""SQL statements per page, counted in process with an engine event listener."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


class QueryCounter:
    """Counts (and keeps) the statements ``engine`` sends while the block runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@dataclass
class PageCount:
    page: str
    path: str
    status: int
    statements: int
    sql: list[str] = field(default_factory=list)


def count_page(client: Any, path: str, page: str = "") -> PageCount:
    """Statements of one GET through the test client (after a first, uncounted GET, so that
    one-off work of a first request is not counted)."""
    from grants.extensions import db

    client.get(path)
    db.session.remove()
    with QueryCounter(db.engine) as counter:
        response = client.get(path)
    return PageCount(page=page or path, path=path, status=response.status_code, statements=counter.count,
                     sql=[" ".join(s.split())[:160] for s in counter.statements])
