"""Reading PDFs back as a reader would, with poppler-utils (pdftotext, pdfinfo)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def poppler(tool: str, pdf: bytes, tmp_path: Path | None = None, *args: str) -> str:
    """What ``tool`` (``pdftotext`` or ``pdfinfo``) prints for ``pdf``."""
    with tempfile.NamedTemporaryFile(suffix=".pdf", dir=tmp_path) as file:
        file.write(pdf)
        file.flush()
        command = [tool, *args, file.name] + (["-"] if tool == "pdftotext" else [])
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def plain(text: str) -> str:
    """No-break spaces made plain, whitespace collapsed: wrapped phrases read whole."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def pdf_words(pdf: bytes) -> str:
    """The text of ``pdf`` as one line of words."""
    return plain(poppler("pdftotext", pdf))


def page_count(pdf: bytes) -> int:
    info = poppler("pdfinfo", pdf)
    return int(next(line.split(":", 1)[1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_lines(pdf: bytes) -> list[str]:
    """The lines of ``pdf`` laid out as on the page (table rows read across), made plain."""
    return [plain(line) for line in poppler("pdftotext", pdf, None, "-layout").splitlines() if line.strip()]
