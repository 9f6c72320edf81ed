"""Links that leave the application (e-mails, documents): built from the configured public
address ``GRANTS_BASE_URL``, never from the request's ``Host`` header, which a client chooses.

``external_url`` needs only an application context: operations, jobs and commands build the
same links as a request would.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, *, _anchor: str | None = None, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under ``GRANTS_BASE_URL`` (``https://host[/prefix]``)."""
    parts = urlsplit(current_app.config["GRANTS_BASE_URL"])
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme or "https",
    )
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{_anchor}" if _anchor else url
