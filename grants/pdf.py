"""PDF documents (docs/documents.md): WeasyPrint, A4, French, PDF/A-3u, never on the network.

``render_pdf`` renders a Jinja template of ``templates/pdf/`` with a plain-data context
into a PDF/A-3u document. Resources (the print stylesheet, the Marianne fonts, images)
are fetched by :class:`StaticURLFetcher`, which serves regular files of the app's own
static folder and refuses everything else: WeasyPrint never opens a socket nor reads a
file elsewhere on the machine, whatever a template (or data printed in it) refers to.

Templates extend ``pdf/base.html``; relative URLs resolve against the static folder
(``vendor/dsfr/fonts/…``, images). The print stylesheet ``pdf/print.css`` is not linked
from the templates: :func:`render_pdf` applies it, parsed once per process (parsing its
800 lines was a tenth of a receipt's rendering time).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import threading
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

PDF_VARIANT = "pdf/a-3u"

#: The version of what every document shares (``pdf/base.html``: header, EU emblem, footer):
#: a stored rendering of an earlier version (a fiche kept for the committee packs) is laid
#: out again. 2: the European Union emblem with « Cofinancé par l'Union européenne ».
LAYOUT_VERSION = 2

# One font configuration for the process: WeasyPrint caches every @font-face it has
# decoded (the Marianne woff2 files) in it, so only the first document pays for them.
FONT_CONFIG = FontConfiguration()

# Rendering shares FONT_CONFIG (Fontconfig/Pango state); one document at a time per
# process keeps that state safe under threaded WSGI workers. A receipt takes well under
# a second, so the serialisation costs little.
_RENDER_LOCK = threading.Lock()

_TEXT_TYPES = ("text/", "image/svg+xml")
PRINT_STYLESHEET = "pdf/print.css"
_stylesheets: dict[Path, CSS] = {}


class FetchRefused(ValueError):
    """A PDF resource outside the app's static folder (or not a file:// URL) was requested."""


class StaticURLFetcher(URLFetcher):
    """WeasyPrint URL fetcher serving only regular files inside one folder.

    Only ``file:`` URLs are considered (``base_url`` is the folder's own file URL, so
    relative references in templates and stylesheets become such URLs). The path is
    resolved (``..``, symbolic links) before the containment check. ``http:``, ``https:``,
    ``data:``, ``ftp:`` and any other scheme are refused, as are files elsewhere.
    Refusals raise :class:`FetchRefused`; WeasyPrint then logs the resource as missing
    and goes on rendering without it.
    """

    def __init__(self, root: str | Path) -> None:
        # No redirects, file: only: the parent's urllib machinery is never used by
        # ``fetch`` below, but stays locked down should anything reach it.
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.root = Path(root).resolve(strict=True)
        self.base_url = self.root.as_uri() + "/"

    def resolve(self, url: str) -> Path:
        """The file ``url`` designates, or :class:`FetchRefused`."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise FetchRefused(f"URL invalide pour un document PDF : {url!r}") from exc
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"Ressource externe refusée pour un document PDF : {url!r}")
        try:
            path = Path(url2pathname(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError, ValueError) as exc:
            raise FetchRefused(f"Ressource introuvable pour un document PDF : {url!r}") from exc
        if not path.is_relative_to(self.root) or not path.is_file():
            raise FetchRefused(f"Ressource hors du dossier statique refusée : {url!r}")
        return path

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        path = self.resolve(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith(_TEXT_TYPES):
            content_type += "; charset=utf-8"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)  # Decimal, datetime, date, UUID…: their exact textual form


def document_fingerprint(context: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``context``: the "document hash" printed in
    the footer of a document whose hash is not given otherwise."""
    canonical = json.dumps(
        context, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )
    return sha256_hex(canonical.encode("utf-8"))


def _w3c_datetime(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def render_html(template_name: str, context: dict[str, Any], *, title: str) -> str:
    """The HTML that :func:`render_pdf` lays out (also handy to debug a template).

    ``generated_at`` defaults to now and ``document_hash`` to :func:`document_fingerprint`
    of the context (``generated_at`` included).
    """
    context = dict(context)
    context.setdefault("generated_at", datetime.now(UTC))
    context.setdefault("document_hash", document_fingerprint(context))
    return render_template(
        template_name,
        **context,
        document_title=title,
        document_created=_w3c_datetime(context["generated_at"]),
    )


def render_pdf(
    template_name: str, context: dict[str, Any], *, title: str,
    refit: Callable[[int], dict[str, Any] | None] | None = None,
) -> bytes:
    """Render ``template_name`` (a ``templates/pdf/`` page) with ``context`` into PDF/A-3u.

    Needs an application context. ``context`` is plain data (see :func:`render_html` for
    the defaults); ``title`` becomes the ``<title>`` and the PDF's title metadata. The PDF
    is A4, in French, tagged, with the fonts embedded; resources come from the app's
    static folder only (:class:`StaticURLFetcher`).

    ``refit``, when given, is called with the number of pages of the laid-out document; it
    returns ``None`` if the document is right, or a new context to lay out again (once),
    for documents that print their own length (a table of contents of a pack). Only the
    final layout is written.
    """
    fetcher = StaticURLFetcher(current_app.static_folder or Path(__file__).parent / "static")
    with _RENDER_LOCK, warnings.catch_warnings():
        # WeasyPrint 70 opens its own sRGB ICC profile (the PDF/A output intent) and
        # never closes it: CPython reports the unclosed file when it is collected, inside
        # write_pdf. Only that known, harmless ResourceWarning is silenced.
        warnings.filterwarnings(
            "ignore", message=r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
        )
        document = _layout(render_html(template_name, context, title=title), fetcher)
        again = refit(len(document.pages)) if refit is not None else None
        if again is not None:
            document = _layout(render_html(template_name, again, title=title), fetcher)
        return document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True)


def print_stylesheet(fetcher: StaticURLFetcher) -> CSS:
    """``pdf/print.css`` of ``fetcher``'s folder, parsed on first use (call under _RENDER_LOCK):
    its @font-face rules are registered in FONT_CONFIG, which every document shares."""
    if fetcher.root not in _stylesheets:
        _stylesheets[fetcher.root] = CSS(
            url=fetcher.base_url + PRINT_STYLESHEET, url_fetcher=fetcher, font_config=FONT_CONFIG
        )
    return _stylesheets[fetcher.root]


def _layout(html: str, fetcher: StaticURLFetcher) -> Document:
    return HTML(string=html, base_url=fetcher.base_url, url_fetcher=fetcher).render(
        stylesheets=[print_stylesheet(fetcher)], font_config=FONT_CONFIG, pdf_variant=PDF_VARIANT, pdf_tags=True
    )
