"""PDF layer (grants/pdf.py): the receipt's content and format (PDF/A-3u, fonts, pages),
the restricted URL fetcher, and the fingerprint helpers.

PDFs are read back with poppler-utils (pdftotext, pdfinfo, pdffonts), as a reader would.
"""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import time
import urllib.request
import zlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader

from grants.pdf import (
    FetchRefused,
    StaticURLFetcher,
    document_fingerprint,
    render_html,
    render_pdf,
    sha256_hex,
)

STATIC = Path(__file__).resolve().parents[2] / "grants" / "static"
FONT = STATIC / "vendor" / "dsfr" / "fonts" / "Marianne-Regular.woff2"
SNAPSHOT_SHA = hashlib.sha256(b"snapshot").hexdigest()
DOCUMENT_HASH = hashlib.sha256(b"document").hexdigest()
TITLE = "Accusé de réception AAP-QPV-DEMO-2026-0001"


def sample_context(**overrides: Any) -> dict[str, Any]:
    attachments = [
        ("Statuts de la structure", "statuts-2022.pdf", 234_567),
        ("Relevé d'identité bancaire (RIB)", "rib.pdf", 12_000),
        ("Délibération ou mandat du signataire",
         "deliberation_conseil_administration_du_15_mars_2023_version_signee_definitive.pdf", 3_456_789),
    ]
    context = {
        "reference": "AAP-QPV-DEMO-2026-0001",
        "call": {"code": "AAP-QPV-DEMO",
                 "title": "Renforcement des parcours d'accompagnement des jeunes vivant dans les QPV"},
        "structure": {"name": "Mission locale du Valenciennois", "siret": "13002526500013",
                      "address": "1 rue de l'Exemple", "postal_code": "59300", "commune_name": "Valenciennes"},
        # 22:58 UTC on the night of the switch to summer time: 23:58 in Paris (UTC+1).
        "submitted_at": datetime(2023, 3, 25, 22, 58, 12, tzinfo=UTC),
        "submitted_by": "Karim Démo",
        "snapshot_sha256": SNAPSHOT_SHA,
        "version_number": 1,
        "project_title": "Aller vers les jeunes des quartiers",
        "attachments": [
            {"type_label": label, "display_name": name, "size": size,
             "sha256": hashlib.sha256(name.encode()).hexdigest()}
            for label, name, size in attachments
        ],
        "fse_requested_total": Decimal("123456.78"),
        "generated_at": datetime(2023, 3, 25, 22, 58, 13, tzinfo=UTC),
        "document_hash": DOCUMENT_HASH,
    }
    return context | overrides


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / f"document-{time.perf_counter_ns()}.pdf"
    path.write_bytes(pdf)
    command = [tool, *args, str(path)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def normalized(text: str) -> str:
    """pdftotext output with the no-break spaces of French formats made plain spaces."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def receipt(app: Flask) -> bytes:
    with app.app_context():
        return render_pdf("pdf/receipt.html", sample_context(), title=TITLE)


@pytest.fixture(scope="module")
def receipt_text(receipt: bytes, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The layout text (lines as printed: side-by-side columns share lines)."""
    return normalized(poppler("pdftotext", receipt, tmp_path_factory.mktemp("pdf"), "-layout"))


@pytest.fixture(scope="module")
def receipt_words(receipt: bytes, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The text in reading order, whitespace collapsed: wrapped phrases read whole."""
    text = normalized(poppler("pdftotext", receipt, tmp_path_factory.mktemp("pdf")))
    return " ".join(text.split())


# The receipt ----------------------------------------------------------------------------


def test_receipt_is_a_pdf_with_the_submission_facts(receipt: bytes, receipt_text: str,
                                                    receipt_words: str) -> None:
    assert receipt.startswith(b"%PDF-")
    assert "Accusé de réception" in receipt_text
    assert "AAP-QPV-DEMO-2026-0001" in receipt_text
    assert "25/03/2023 à 23:58" in receipt_text
    text = receipt_words
    assert "Le dossier AAP-QPV-DEMO-2026-0001 a été déposé le 25/03/2023 à 23:58 (heure de Paris)" in text
    assert "Karim Démo" in text
    assert "Mission locale du Valenciennois" in text
    assert "130 025 265 00013" in text
    assert "59300 Valenciennes" in text
    assert "Aller vers les jeunes des quartiers" in text
    assert "123 456,78 €" in text
    assert "Cet accusé de réception ne préjuge pas de la recevabilité ni de la sélection du dossier." in text
    assert "toute modification ultérieure du contenu déposé changerait cette empreinte" in text.lower()


def test_receipt_prints_the_hashes_in_full(receipt_text: str) -> None:
    flat = compact(receipt_text)
    assert SNAPSHOT_SHA in flat
    assert DOCUMENT_HASH in flat  # the footer's document hash
    for attachment in sample_context()["attachments"]:
        assert attachment["sha256"] in flat


def test_receipt_lists_the_attachments_with_french_sizes(receipt_text: str, receipt_words: str) -> None:
    flat = compact(receipt_words)
    for attachment in sample_context()["attachments"]:
        assert attachment["display_name"] in flat  # long names wrap inside their cell
    assert "statuts-2022.pdf" in receipt_text
    assert "229,1 Ko" in receipt_text
    assert "11,7 Ko" in receipt_text
    assert "3,3 Mo" in receipt_text
    assert "Délibération ou mandat du signataire" in receipt_words


def test_receipt_has_header_and_footer(receipt_text: str) -> None:
    assert re.search(r"Page 1 / \d+", receipt_text)
    assert "RÉPUBLIQUE" in receipt_text and "FRANÇAISE" in receipt_text
    assert "Liberté" in receipt_text and "Égalité" in receipt_text and "Fraternité" in receipt_text
    assert "DREETS Hauts-de-France — Parcours QPV" in receipt_text
    assert "Document généré le 25/03/2023 à 23:58 (heure de Paris)" in receipt_text


def test_receipt_is_pdfa_3u_with_title_metadata(receipt: bytes, tmp_path: Path) -> None:
    xmp = poppler("pdfinfo", receipt, tmp_path, "-meta")
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="U"' in xmp
    assert TITLE in xmp
    info = poppler("pdfinfo", receipt, tmp_path)
    assert re.search(rf"^Title:\s+{re.escape(TITLE)}$", info, re.MULTILINE)
    assert re.search(r"^Author:\s+DREETS Hauts-de-France$", info, re.MULTILINE)
    assert re.search(r"^Page size:.*\(A4\)$", info, re.MULTILINE)
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE)
    assert re.search(r"^CreationDate:\s+Sat Mar 25 22:58:13 2023 UTC$", info, re.MULTILINE)


def test_receipt_embeds_marianne(receipt: bytes, tmp_path: Path) -> None:
    fonts = poppler("pdffonts", receipt, tmp_path).splitlines()[2:]
    names = [line.split()[0] for line in fonts]
    assert any(name.endswith("+Marianne") for name in names), names
    assert any(name.endswith("+Marianne-Bold") for name in names), names
    for line in fonts:  # PDF/A: every font embedded, with a Unicode map
        columns = line.split()
        assert columns[-5:-2] == ["yes", "yes", "yes"], line


def test_receipt_html_is_french_and_titled(app: Flask) -> None:
    with app.app_context():
        html = render_html("pdf/receipt.html", sample_context(), title=TITLE)
    assert '<html lang="fr">' in html
    assert f"<title>{TITLE}</title>".replace("'", "&#39;") in html
    # The print stylesheet is applied by render_pdf (parsed once), not linked: a template
    # cannot pull in the web's CSS either.
    assert '<link rel="stylesheet"' not in html


def test_receipt_without_attachments_nor_amount(app: Flask, tmp_path: Path) -> None:
    context = sample_context(
        attachments=[], fse_requested_total=None,
        structure={"name": "Association Exemple", "siret": "13002526500013", "address": None,
                   "postal_code": None, "commune_name": "Lille"},
    )
    with app.app_context():
        pdf = render_pdf("pdf/receipt.html", context, title=TITLE)
    text = normalized(poppler("pdftotext", pdf, tmp_path, "-layout"))
    assert "Aucune pièce jointe n'a été déposée avec ce dossier." in text
    assert "FSE+ demandé" not in text
    assert "None" not in text
    assert "Lille" in text


def test_long_receipt_paginates_with_header_and_footer_on_every_page(app: Flask, tmp_path: Path) -> None:
    attachments = [
        {"type_label": f"Pièce complémentaire n° {n}", "display_name": f"piece-{n:02d}.pdf",
         "size": 1024 * n, "sha256": hashlib.sha256(str(n).encode()).hexdigest()}
        for n in range(1, 41)
    ]
    with app.app_context():
        pdf = render_pdf("pdf/receipt.html", sample_context(attachments=attachments), title=TITLE)
    text = normalized(poppler("pdftotext", pdf, tmp_path, "-layout"))
    pages = text.split("\f")
    pages = [page for page in pages if page.strip()]
    total = len(pages)
    assert total >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} / {total}" in page
        assert "DREETS Hauts-de-France — Parcours QPV" in page
        assert DOCUMENT_HASH in compact(page)
    for page in pages[1:]:  # the table header is repeated on each page the table spans
        if "piece-" in page:
            assert "Type de pièce" in page
    flat = compact(text)
    for attachment in attachments:
        assert attachment["display_name"] in flat
        assert attachment["sha256"] in flat


def test_data_is_escaped_not_interpreted(app: Flask, tmp_path: Path) -> None:
    hostile = '<img src="http://example.com/x.png"> & <b>Cie</b>'
    context = sample_context(structure=sample_context()["structure"] | {"name": hostile})
    with app.app_context():
        html = render_html("pdf/receipt.html", context, title=TITLE)
        pdf = render_pdf("pdf/receipt.html", context, title=TITLE)
    assert hostile not in html
    assert "&lt;img src=" in html
    text = poppler("pdftotext", pdf, tmp_path, "-layout")
    assert "<b>Cie</b>" in " ".join(text.split())


def test_default_generation_date_and_document_hash(app: Flask, tmp_path: Path) -> None:
    context = sample_context()
    del context["document_hash"]
    with app.app_context():
        pdf = render_pdf("pdf/receipt.html", context, title=TITLE)
        html = render_html("pdf/receipt.html", {k: v for k, v in context.items() if k != "generated_at"},
                           title=TITLE)
    assert document_fingerprint(context) in compact(poppler("pdftotext", pdf, tmp_path))
    assert "Document généré le" in html and "Empreinte du document" in html


# The restricted URL fetcher ----------------------------------------------------------------


@pytest.fixture
def fetcher() -> StaticURLFetcher:
    return StaticURLFetcher(STATIC)


def test_fetcher_serves_files_of_the_static_folder(fetcher: StaticURLFetcher) -> None:
    response = fetcher.fetch(fetcher.base_url + "vendor/dsfr/fonts/Marianne-Regular.woff2")
    try:
        assert response.read() == FONT.read_bytes()
        assert response.read() == b""
    finally:
        response.close()
    css = fetcher.fetch(fetcher.base_url + "pdf/print.css")
    try:
        assert css.content_type == "text/css"
        assert css.charset == "utf-8"
        assert b"@font-face" in css.read()
    finally:
        css.close()
    assert fetcher.resolve(FONT.as_uri()) == FONT.resolve()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "file:///etc/passwd",
        "file://example.com/etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "/etc/passwd",
        "static:../../pyproject.toml",
        "static:pdf/print.css",
        "pdf/print.css",
    ],
)
def test_fetcher_refuses_other_urls(fetcher: StaticURLFetcher, url: str) -> None:
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)
    assert issubclass(FetchRefused, ValueError)


@pytest.mark.parametrize(
    "relative",
    [
        "../../pyproject.toml",
        "pdf/../../../pyproject.toml",
        "%2e%2e/%2e%2e/pyproject.toml",
        "..%2f..%2fpyproject.toml",
        "vendor/dsfr/../../../grants/pdf.py",
        "vendor/dsfr/fonts/",  # a directory
        "vendor/missing.png",
    ],
)
def test_fetcher_refuses_traversal_out_of_static(fetcher: StaticURLFetcher, relative: str) -> None:
    with pytest.raises(FetchRefused):
        fetcher.fetch(fetcher.base_url + relative)


def test_fetcher_refuses_symlinks_leading_out(tmp_path: Path) -> None:
    root = tmp_path / "static"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "inside.txt").write_text("public")
    (root / "link.txt").symlink_to(secret)
    (root / "dir-link").symlink_to(tmp_path)
    fetcher = StaticURLFetcher(root)
    response = fetcher.fetch(fetcher.base_url + "inside.txt")
    try:
        assert response.read() == b"public"
    finally:
        response.close()
    for relative in ("link.txt", "dir-link/secret.txt"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(fetcher.base_url + relative)


EXTERNAL_TEMPLATE = """{% extends "pdf/base.html" %}
{% block content %}
  <h1>Ressources externes</h1>
  <p>Texte du document.</p>
  <img src="http://example.com/x.png" alt="distante">
  <img src="https://example.com/y.png" alt="distante">
  <img src="file:///etc/passwd" alt="fichier">
  <img src="../../pyproject.toml" alt="fichier">
  <div style="background: url(https://example.com/z.png)">fond</div>
  <link rel="stylesheet" href="https://example.com/style.css">
  <link rel="attachment" href="file:///etc/hostname">
{% endblock %}
"""


def test_external_resources_are_never_fetched(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    attempts: list[Any] = []

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", forbidden)
    monkeypatch.setattr(
        app.jinja_env, "loader",
        ChoiceLoader([DictLoader({"pdf/test_external.html": EXTERNAL_TEMPLATE}), app.jinja_env.loader]),
    )
    with app.app_context():
        pdf = render_pdf("pdf/test_external.html", {"generated_at": datetime.now(UTC)},
                         title="Ressources externes")
    assert attempts == []
    assert pdf.startswith(b"%PDF-")
    text = poppler("pdftotext", pdf, tmp_path, "-layout")
    assert "Texte du document." in text
    assert "root:" not in text
    refused = [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    assert any("http://example.com/x.png" in message for message in refused), refused
    assert any("file:///etc/passwd" in message for message in refused), refused


# Fingerprints ---------------------------------------------------------------------------


def test_sha256_hex() -> None:
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_document_fingerprint_is_canonical() -> None:
    at = datetime(2023, 3, 25, 22, 58, tzinfo=UTC)
    first = {"b": Decimal("1.50"), "a": {"y": [1, "é"], "x": at}}
    second = {"a": {"x": at, "y": [1, "é"]}, "b": Decimal("1.50")}
    fingerprint = document_fingerprint(first)
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)
    assert fingerprint == document_fingerprint(second)
    expected = '{"a":{"x":"2023-03-25 22:58:00+00:00","y":[1,"é"]},"b":"1.50"}'
    assert fingerprint == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert document_fingerprint(first | {"b": Decimal("1.5")}) != fingerprint
    paris = at.astimezone(timezone(timedelta(hours=1)))
    assert document_fingerprint(first | {"a": {"x": paris, "y": [1, "é"]}}) != fingerprint
    assert document_fingerprint({"s": {3, 1, 2}}) == document_fingerprint({"s": {2, 3, 1}})


# Multi-document packs: table of contents and bookmarks ------------------------------------

PACK_TEMPLATE = """{% extends "pdf/base.html" %}
{% block content %}
  <h1>Dossier du comité</h1>
  <ol class="toc">
    {% for n in range(1, 4) %}<li><a href="#dossier-{{ n }}">Dossier n° {{ n }}</a></li>{% endfor %}
  </ol>
  {% for n in range(1, 4) %}
  <section class="page-break" id="dossier-{{ n }}">
    <h1>Dossier n° {{ n }}</h1>
    <h2>Plan de financement {{ n }}</h2>
    <h3>Détail</h3>
  </section>
  {% endfor %}
{% endblock %}
"""


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF's objects, object streams inflated (pydyf compresses them)."""
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(chunks)


def pdf_string(text: str) -> bytes:
    if text.isascii():
        return b"(" + text.encode() + b")"
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


def test_pack_has_toc_page_numbers_bookmarks_and_french_language(
    app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        app.jinja_env, "loader",
        ChoiceLoader([DictLoader({"pdf/test_pack.html": PACK_TEMPLATE}), app.jinja_env.loader]),
    )
    with app.app_context():
        pdf = render_pdf("pdf/test_pack.html", {"generated_at": datetime.now(UTC)}, title="Dossier du comité")
    text = poppler("pdftotext", pdf, tmp_path, "-layout")
    for n in range(1, 4):  # each dossier starts a page; the TOC gives it
        assert re.search(rf"Dossier n° {n} \.+ {n + 1}\n", text), text
    assert "Page 4 / 4" in text
    objects = pdf_objects(pdf)
    assert b"/Outlines" in objects
    assert b"/Lang (fr)" in objects
    for label in ("Dossier du comité", "Dossier n° 2", "Plan de financement 3"):
        assert pdf_string(label) in objects, label
    assert pdf_string("Détail") not in objects  # h3: no bookmark
