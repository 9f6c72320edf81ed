"""Upload checks on real sample files built here: accepted kinds, refusals and display names."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import struct
import unicodedata
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.uploads import ACCEPTED_LABEL, CheckedUpload, UploadRefused, check_upload, read_limited

MIB = 1024 * 1024

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n"
)

# A 2×2 red JPEG (JFIF) saved by Pillow, kept as bytes so the tests need no imaging library.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19i"
    "Z2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2P/wAARCAACAAIDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUF"
    "BAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVW"
    "V1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi"
    "4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAEC"
    "AxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVm"
    "Z2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq"
    "8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDHooorhPqD/9k="
)


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\xc0\x10\x10" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def zip_of(*members: tuple[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members:
            # ODF wants its mimetype entry stored, not compressed.
            archive.writestr(name, content, zipfile.ZIP_STORED if name == "mimetype" else compression)
    return buffer.getvalue()


ODF_MANIFEST = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
    b'<manifest:file-entry manifest:full-path="/" manifest:media-type="%s"/>'
    b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    b"</manifest:manifest>"
)
ODF_CONTENT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
    b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.3"><office:body/>'
    b"</office:document-content>"
)


def odf_members(mime: bytes) -> list[tuple[str, bytes]]:
    return [("mimetype", mime), ("content.xml", ODF_CONTENT), ("META-INF/manifest.xml", ODF_MANIFEST % mime)]


def odf(mime: bytes) -> bytes:
    return zip_of(*odf_members(mime))


ODT = odf(b"application/vnd.oasis.opendocument.text")
ODS = odf(b"application/vnd.oasis.opendocument.spreadsheet")

RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="%s"/></Relationships>'
)
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/%s" ContentType="%s"/></Types>'
)
WORD_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def docx_members(main_type: bytes = WORD_MAIN) -> list[tuple[str, bytes]]:
    return [
        ("[Content_Types].xml", CONTENT_TYPES % (b"word/document.xml", main_type)),
        ("_rels/.rels", RELS % b"word/document.xml"),
        ("word/document.xml", b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
                              b'main"><w:body><w:p><w:r><w:t>Statuts</w:t></w:r></w:p></w:body></w:document>'),
    ]


def xlsx_members() -> list[tuple[str, bytes]]:
    return [
        ("[Content_Types].xml", CONTENT_TYPES % (b"xl/workbook.xml", EXCEL_MAIN)),
        ("_rels/.rels", RELS % b"xl/workbook.xml"),
        ("xl/workbook.xml", b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                            b'<sheets><sheet name="Budget" sheetId="1"/></sheets></workbook>'),
    ]


DOCX = zip_of(*docx_members())
XLSX = zip_of(*xlsx_members())


def refusal(filename: str, data: bytes, **limits: int) -> str:
    with pytest.raises(UploadRefused) as caught:
        check_upload(filename, data, **limits)
    return str(caught.value)


# Accepted kinds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "kind", "mime", "extension"),
    [
        ("statuts.pdf", PDF, "pdf", "application/pdf", "pdf"),
        ("logo.png", png(), "png", "image/png", "png"),
        ("photo.jpg", JPEG, "jpeg", "image/jpeg", "jpg"),
        ("compte-rendu.odt", ODT, "odt", "application/vnd.oasis.opendocument.text", "odt"),
        ("budget.ods", ODS, "ods", "application/vnd.oasis.opendocument.spreadsheet", "ods"),
        ("fiche de poste.docx", DOCX, "docx",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("budget.xlsx", XLSX, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ],
)
def test_each_accepted_kind_is_identified_from_its_content(filename, data, kind, mime, extension):
    checked = check_upload(filename, data)
    assert checked == CheckedUpload(
        kind=kind, mime=mime, extension=extension, display_name=filename,
        size=len(data), sha256=hashlib.sha256(data).hexdigest(),
    )


def test_pdf_with_a_little_junk_around_header_and_trailer_is_accepted():
    data = b"\xef\xbb\xbf" + b" " * 500 + PDF + b"\n" * 300
    assert check_upload("scan.pdf", data).kind == "pdf"


def test_refusal_is_a_value_error_whose_text_is_the_reason():
    with pytest.raises(ValueError, match="vide"):
        check_upload("vide.pdf", b"")


# Refusals: content -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("statuts.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode"),
        ("statuts.pdf", b"<!doctype html><html><script>alert(1)</script></html>"),
        ("rib.pdf", b"#!/bin/sh\nrm -rf ~\n"),
        ("rib.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 100),
        ("image.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("notes.txt", "Délibération du conseil".encode()),
        ("pdf-trop-loin.pdf", b"x" * 1024 + PDF),
    ],
    ids=["exe-renamed-pdf", "html-renamed-pdf", "shell-script", "elf", "gif", "text", "pdf-header-too-far"],
)
def test_unsupported_content_is_refused_naming_the_accepted_formats(filename, data):
    message = refusal(filename, data)
    assert "non accepté" in message
    assert ACCEPTED_LABEL in message


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "ancien format Word ou Excel"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
    ],
)
def test_common_unsupported_formats_get_a_hint(data, hint):
    message = refusal("piece.doc", data)
    assert hint in message
    assert ACCEPTED_LABEL in message


def test_empty_file_is_refused():
    assert refusal("statuts.pdf", b"") == "Le fichier est vide."


def test_file_over_the_limit_is_refused_with_the_limit_in_mo():
    assert "(1 Mo)" in refusal("gros.pdf", PDF + b"0" * MIB, max_bytes=MIB)
    assert "(1,5 Mo)" in refusal("gros.pdf", b"%PDF-1.4" + bytes(2 * MIB), max_bytes=3 * MIB // 2)
    assert check_upload("juste.pdf", PDF, max_bytes=len(PDF)).size == len(PDF)


def test_default_limit_is_10_mo():
    message = refusal("gros.pdf", PDF[:-6] + b"0" * (10 * MIB) + b"%%EOF\n")
    assert message == "Le fichier dépasse la taille maximale autorisée (10 Mo)."


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("tronque.pdf", PDF[: len(PDF) // 2]),
        ("tronque.pdf", PDF[:-7] + b"x" * 2000),
        ("tronque.png", png()[:-12]),
        ("crc.png", png()[:29] + b"\x00\x00\x00\x00" + png()[33:]),
        ("entete.png", b"\x89PNG\r\n\x1a\n\x00\x00"),
        ("tronque.jpg", JPEG[:5]),
        ("en-tete.jpg", JPEG[:30]),
        ("sans-image.jpg", JPEG[:20] + b"\xff\xda\x00\x02"),
        ("marqueur.jpg", b"\xff\xd8\xff\x00\x00\x10" + bytes(20)),
    ],
)
def test_damaged_files_of_an_accepted_kind_are_refused(filename, data):
    assert "incomplet ou endommagé" in refusal(filename, data)


# Refusals: zip-based office documents --------------------------------------------------------


def test_zip_bomb_is_refused_before_anything_is_inflated():
    buffer = io.BytesIO()
    zeros = bytes(MIB)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in docx_members():
            archive.writestr(name, content)
        # Streamed: 200 Mo of zeros deflate to a few hundred ko without ever being in memory.
        with archive.open("word/media/image1.png", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(zeros)
    data = buffer.getvalue()
    assert len(data) < MIB
    message = refusal("bombe.docx", data)
    assert message.startswith("Archive suspecte")
    assert "100 Mo" in message


def test_member_with_an_abnormal_compression_ratio_is_refused():
    members = [*docx_members(), ("word/media/image1.bin", bytes(2 * MIB))]
    message = refusal("ratio.docx", zip_of(*members))
    assert message.startswith("Archive suspecte (taux de compression anormal)")


def test_content_split_into_members_under_the_floor_is_refused_as_a_whole():
    """95 members of 1 Mio of zeros (each at the floor, so no member's ratio counts) in 100 ko."""
    members = [*docx_members(), *((f"word/media/part{n}.bin", bytes(MIB)) for n in range(95))]
    data = zip_of(*members)
    assert len(data) < 120 * 1024
    message = refusal("morceaux.docx", data)
    assert message.startswith("Archive suspecte (taux de compression anormal)")


def test_a_large_ordinary_spreadsheet_is_accepted():
    """Repetitive XML compresses well, but far less than 200 to 1 over the whole archive."""
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Ligne {n} {n * 7919 % 104729}</t></is></c></row>'
                   for n in range(1, 40_000))
    members = [*xlsx_members(), ("xl/worksheets/sheet2.xml", rows.encode())]
    assert check_upload("gros.xlsx", zip_of(*members)).kind == "xlsx"


def test_small_parts_may_compress_a_lot():
    members = [*docx_members(), ("word/styles.xml", b" " * (MIB - 1))]
    assert check_upload("styles.docx", zip_of(*members)).kind == "docx"


def test_uncompressed_size_cap_is_a_parameter():
    noise = random.Random(3).randbytes(64 * 1024)
    data = zip_of(*docx_members(), ("word/media/image1.bin", noise))
    assert check_upload("image.docx", data).kind == "docx"
    message = refusal("image.docx", data, max_unzipped_bytes=32 * 1024)
    assert message == "Archive suspecte (plus de 32 ko une fois décompressée) : le fichier est refusé par sécurité."


def test_too_many_entries_are_refused():
    filler = [(f"word/media/p{index}.xml", b"<p/>") for index in range(2000 - 3)]
    assert check_upload("limite.docx", zip_of(*docx_members(), *filler)).kind == "docx"
    filler.append(("word/media/one-too-many.xml", b"<p/>"))
    assert "plus de 2 000 éléments" in refusal("entrees.docx", zip_of(*docx_members(), *filler))


def set_encrypted_flag(data: bytes) -> bytes:
    """Mark every entry as encrypted, in both the local and the central headers."""
    patched = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = patched.find(signature)
        while start != -1:
            patched[start + flag_offset] |= 0x01
            start = patched.find(signature, start + 4)
    return bytes(patched)


def flip_byte_in_member(data: bytes, name: bytes) -> bytes:
    """Corrupt the compressed bytes of one member so only its CRC can tell."""
    patched = bytearray(data)
    header = patched.find(b"PK\x03\x04")
    while patched[header + 30: header + 30 + len(name)] != name:
        header = patched.find(b"PK\x03\x04", header + 4)
    name_length, extra_length = struct.unpack("<HH", patched[header + 26: header + 30])
    patched[header + 30 + name_length + extra_length + 2] ^= 0xFF
    return bytes(patched)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (DOCX[: len(DOCX) // 2], "incomplet ou endommagé"),
        (DOCX[:-10], "incomplet ou endommagé"),
        (flip_byte_in_member(DOCX, b"word/document.xml"), "incomplet ou endommagé"),
        (set_encrypted_flag(DOCX), "protégé par un mot de passe"),
        (zip_of(*docx_members(), compression=zipfile.ZIP_BZIP2), "incomplet ou endommagé"),
        (b"PK\x03\x04" + b"\x00" * 100, "incomplet ou endommagé"),
    ],
    ids=["half", "no-end-record", "bad-crc", "encrypted", "bzip2", "garbage"],
)
def test_corrupt_or_encrypted_archives_are_refused(data, expected):
    assert expected in refusal("dossier.docx", data)


def test_odf_encrypted_by_its_manifest_is_refused():
    mime = b"application/vnd.oasis.opendocument.text"
    manifest = ODF_MANIFEST.replace(b"</manifest:manifest>", b"<manifest:encryption-data/></manifest:manifest>")
    data = zip_of(("mimetype", mime), ("content.xml", ODF_CONTENT), ("META-INF/manifest.xml", manifest % mime))
    assert "protégé par un mot de passe" in refusal("secret.odt", data)


@pytest.mark.parametrize(
    "members",
    [
        [("photo.jpg", JPEG), ("statuts.pdf", PDF)],
        [("content.xml", ODF_CONTENT), ("mimetype", b"application/vnd.oasis.opendocument.text")],
        odf_members(b"application/vnd.oasis.opendocument.presentation"),
        odf_members(b"application/vnd.oasis.opendocument.text\n"),
        [("[Content_Types].xml", CONTENT_TYPES % (b"ppt/presentation.xml", b"application/xml"))],
        [("word/document.xml", b"<w:document/>"), ("_rels/.rels", RELS % b"word/document.xml")],
        [*docx_members(), xlsx_members()[2]],
    ],
    ids=["plain-zip", "mimetype-not-first", "odp", "mimetype-with-newline", "pptx", "no-content-types",
         "word-and-excel"],
)
def test_zip_that_is_not_an_accepted_office_document_is_refused(members):
    message = refusal("document.docx", zip_of(*members))
    assert ACCEPTED_LABEL in message


def test_odf_without_content_is_refused():
    data = zip_of(("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"))
    assert "incomplet ou endommagé" in refusal("vide.ods", data)


@pytest.mark.parametrize(
    "members",
    [
        [*docx_members(), ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")],
        docx_members(b"application/vnd.ms-word.document.macroEnabled.main+xml"),
    ],
    ids=["vba-project", "macro-content-type"],
)
def test_office_documents_with_macros_are_refused(members):
    assert "macros" in refusal("macro.docx", zip_of(*members))


def test_zip_with_data_before_it_is_not_taken_for_an_office_document():
    # zipfile would read past the prefix; a document must start with its zip header.
    assert ACCEPTED_LABEL in refusal("polyglotte.docx", b"<html>" + DOCX)


# Extensions and display names ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "display_name", "extension"),
    [
        ("statuts.docx", PDF, "statuts.pdf", "pdf"),
        ("photo.png", JPEG, "photo.jpg", "jpg"),
        ("photo.JPEG", JPEG, "photo.jpeg", "jpeg"),
        ("Délibération n°3.PDF", PDF, "Délibération n°3.pdf", "pdf"),
        ("scan", PDF, "scan.pdf", "pdf"),
        ("compte rendu v1.2", PDF, "compte rendu v1.2.pdf", "pdf"),
        ("facture.pdf.exe", PDF, "facture.pdf.pdf", "pdf"),
        ("budget.xls", XLSX, "budget.xlsx", "xlsx"),
        ("budget.ods", XLSX, "budget.xlsx", "xlsx"),
        ("rapport.odt ", ODT, "rapport.odt", "odt"),
    ],
)
def test_display_extension_follows_the_content(filename, data, display_name, extension):
    checked = check_upload(filename, data)
    assert (checked.display_name, checked.extension) == (display_name, extension)


LONG_STEM = "é" * 200


@pytest.mark.parametrize(
    ("filename", "display_name"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("/var/www/statuts.pdf", "statuts.pdf"),
        ("C:\\Users\\x\\a.pdf", "a.pdf"),
        ("C:a.pdf", "a.pdf"),
        ("..\\..\\boot.ini", "boot.ini.pdf"),
        ("dossier/", "document.pdf"),
        ("..", "document.pdf"),
        ("", "document.pdf"),
        (".pdf", "document.pdf"),
        ("   ", "document.pdf"),
        (".bashrc", "bashrc.pdf"),
        ("...cache.pdf", "cache.pdf"),
        ("rib.\u202efdp.exe", "rib.fdp.pdf"),
        ("a\x00b\x07c\x7f.pdf", "abc.pdf"),
        ("rapport\tfinal\n2024.pdf", "rapport final 2024.pdf"),
        ("trop   d'espaces .pdf", "trop d'espaces.pdf"),
        ("nom. .pdf", "nom.pdf"),
        (unicodedata.normalize("NFD", "Délibération n°3.pdf"), "Délibération n°3.pdf"),
        ("\ud800statuts.pdf", "statuts.pdf"),
        ("Statuts – association « Les Écureuils ».pdf", "Statuts – association « Les Écureuils ».pdf"),
        (LONG_STEM + ".pdf", "é" * 146 + ".pdf"),
        ("a" * 300, "a" * 146 + ".pdf"),
        ("a" * 145 + "   " + "b" * 20 + ".pdf", "a" * 145 + ".pdf"),
    ],
)
def test_display_names_are_sanitised(filename, display_name):
    name = check_upload(filename, PDF).display_name
    assert name == display_name
    assert unicodedata.is_normalized("NFC", name)


def test_nfd_names_become_nfc():
    name = check_upload(unicodedata.normalize("NFD", "Élève.pdf"), PDF).display_name
    assert name == "\u00c9l\u00e8ve.pdf"


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(st.characters(codec="utf-8") | st.sampled_from("/\\.:\x00 \u202e"), max_size=400))
def test_any_name_gives_a_safe_display_name(filename):
    name = check_upload(filename, PDF).display_name
    assert name.endswith(".pdf")
    assert 5 <= len(name) <= 150
    assert not name.startswith((".", " "))
    assert "/" not in name and "\\" not in name
    assert all(unicodedata.category(char) not in ("Cc", "Cf", "Cs") for char in name)
    assert unicodedata.is_normalized("NFC", name)


# read_limited --------------------------------------------------------------------------------


class CountingStream(io.BytesIO):
    """Records how much was asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.delivered = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.delivered += len(chunk)
        return chunk


class TrickleStream:
    """Returns at most 7 bytes per read, as a slow socket might."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1, /) -> bytes:
        size = 7 if size < 0 else min(size, 7)
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


def test_read_limited_returns_everything_up_to_the_limit():
    assert read_limited(io.BytesIO(PDF), len(PDF)) == PDF
    assert read_limited(io.BytesIO(b""), 10) == b""


def test_read_limited_refuses_one_byte_too_many_without_reading_the_rest():
    stream = CountingStream(b"x" * (5 * MIB))
    with pytest.raises(UploadRefused, match=r"taille maximale autorisée \(1 Mo\)"):
        read_limited(stream, MIB)
    assert stream.delivered == MIB + 1


def test_read_limited_copes_with_short_reads():
    assert read_limited(TrickleStream(PDF), len(PDF)) == PDF
    with pytest.raises(UploadRefused):
        read_limited(TrickleStream(PDF), len(PDF) - 1)


def test_read_limited_with_a_small_limit_speaks_in_octets_or_ko():
    with pytest.raises(UploadRefused, match=r"\(20 octets\)"):
        read_limited(io.BytesIO(PDF), 20)
    with pytest.raises(UploadRefused, match=r"\(0,5 ko\)"):
        read_limited(io.BytesIO(b"x" * 1024), 512)
