"""Page numbers read from the query string (``?page=``), bounded once for every list.

A page number is the user's input: ``?page=10**30`` must show the last page, never reach
the database as an OFFSET no engine can hold.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_PAGE = 1_000_000


def requested_page(args: Mapping[str, str], name: str = "page") -> int:
    """``?page=`` as a number from 1 to :data:`MAX_PAGE` (1 when absent or not a number)."""
    text = (args.get(name) or "").strip()
    if not text.isascii() or not text.isdigit():
        return 1
    if len(text) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(int(text), 1), MAX_PAGE)


def clamp_page(page: int, total: int, per_page: int) -> tuple[int, int]:
    """``(page, pages)``: the number of pages of ``total`` rows (at least 1) and ``page``
    brought within them (a page past the end shows the last one)."""
    pages = max((total - 1) // per_page + 1, 1)
    return min(max(page, 1), pages), pages
