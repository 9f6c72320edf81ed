"""A small same-origin crawler over the Flask test client: follows ``<a href>`` with GET,
records ``<form>`` actions and methods (with the values a browser would send) without
submitting them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

ORIGIN = "http://localhost"
SKIPPED_PREFIXES = ("/static/", "/compte/deconnexion")
# Sorting and filtering links multiply a page by its query strings: a few variants per path
# exercise the parameters without crawling every combination.
QUERY_VARIANTS_PER_PATH = 3


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    page: str = ""


class PageParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._radios: set[str] = set()
        self._select: str | None = None
        self._select_value: str | None = None
        self._select_selected = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(action=a.get("action") or self.page, method=(a.get("method") or "get").upper(),
                              page=self.page)
            self._radios = set()
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                if kind == "submit" and tag == "button" and a.get("value"):
                    # The first named submit button (e.g. decision=admissible) is what a click sends.
                    if a["name"] not in {name for name, _ in self._form.fields}:
                        self._form.fields.append((a["name"], a["value"]))
                return
            if kind == "radio":
                if a["name"] in self._radios:
                    return
                self._radios.add(a["name"])
            if kind == "checkbox" and "checked" not in a:
                return
            self._form.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_value, self._select_selected = a["name"], None, False
        elif tag == "option" and self._select is not None:
            if self._select_value is None or ("selected" in a and not self._select_selected):
                self._select_value = a.get("value", "")
                self._select_selected = "selected" in a
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if self._form is not None and self._select_value is not None:
                self._form.fields.append((self._select, self._select_value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None


def local_path(href: str, base: str) -> str | None:
    """``href`` resolved against ``base`` as a local path with its query, or None if foreign."""
    href = href.strip()
    if not href or href.startswith(("mailto:", "tel:", "javascript:", "data:")):
        return None
    url, _fragment = urldefrag(urljoin(ORIGIN + base, href))
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != ORIGIN:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class CrawlResult:
    statuses: dict[str, int] = field(default_factory=dict)
    forms: dict[tuple[str, str], Form] = field(default_factory=dict)
    truncated: bool = False


def crawl(client: Any, start: str = "/", limit: int = 400) -> CrawlResult:
    """Breadth-first GET of every same-origin link reachable from ``start``."""
    result = CrawlResult()
    queue: deque[str] = deque([start])
    queued = {start}
    variants: dict[str, int] = {}
    while queue:
        if len(result.statuses) >= limit:
            result.truncated = True
            break
        url = queue.popleft()
        response = client.get(url)
        result.statuses[url] = response.status_code
        found: list[str] = []
        if response.status_code in (301, 302, 303, 307, 308):
            found.append(response.headers["Location"])
        elif response.mimetype == "text/html":
            parser = PageParser(url)
            parser.feed(response.get_data(as_text=True))
            found += parser.links
            for form in parser.forms:
                action = local_path(form.action, url)
                if action is None:
                    continue
                form.action = action
                result.forms.setdefault((form.method, action.partition("?")[0]), form)
        response.close()
        for href in found:
            path = local_path(href, url)
            if path is None or path in queued or path.startswith(SKIPPED_PREFIXES):
                continue
            bare, _, query = path.partition("?")
            if query:
                variants[bare] = variants.get(bare, 0) + 1
                if variants[bare] > QUERY_VARIANTS_PER_PATH:
                    continue
            queued.add(path)
            queue.append(path)
    return result
