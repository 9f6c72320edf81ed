"""Checks on uploaded pièces: the type comes from the content, never from the name alone.

Pure functions, no Flask: the views read the upload with :func:`read_limited`, then hand
the bytes to :func:`check_upload`, which either returns a :class:`CheckedUpload` or raises
:class:`UploadRefused` whose text is the French reason shown to the applicant.

Extension policy: a file whose extension does not match its content (``statuts.docx``
that is really a PDF, ``photo.png`` that is really a JPEG) is accepted, and its display
name gets the extension of the detected content (``statuts.pdf``). The content has been
verified, so the only risk of a wrong extension is the reader's computer opening the
download with the wrong program; renaming removes that risk without refusing the many
honest mismatches (phones and scanners name files loosely). Files whose content is not an
accepted format are refused, whatever their name.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import Protocol

ACCEPTED_LABEL = "PDF, PNG, JPEG, ODT, ODS, DOCX ou XLSX"

MAX_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
# A member must be this large before its ratio counts: small XML parts compress a lot.
RATIO_FLOOR_BYTES = 1024 * 1024
# The same for the whole archive: below it, inflating costs nothing worth refusing for.
ARCHIVE_RATIO_FLOOR_BYTES = 10 * 1024 * 1024
MAX_RATIO = 200
MAX_NAME_LENGTH = 150
DEFAULT_STEM = "document"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The IEND chunk is always the same 12 bytes: empty, type, constant CRC.
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
# How far from each end the PDF header and trailer may be (readers tolerate some junk).
PDF_SLACK = 1024
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODF_TEXT = "application/vnd.oasis.opendocument.text"
ODF_SPREADSHEET = "application/vnd.oasis.opendocument.spreadsheet"
CONTENT_TYPES = "[Content_Types].xml"
OFFICE_SUBJECT = "Le document (archive ZIP)"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class _Format:
    mime: str
    extension: str
    aliases: tuple[str, ...]


FORMATS: dict[str, _Format] = {
    "pdf": _Format("application/pdf", "pdf", ("pdf",)),
    "png": _Format("image/png", "png", ("png",)),
    "jpeg": _Format("image/jpeg", "jpg", ("jpg", "jpeg")),
    "odt": _Format(ODF_TEXT, "odt", ("odt",)),
    "ods": _Format(ODF_SPREADSHEET, "ods", ("ods",)),
    "docx": _Format("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", ("docx",)),
    "xlsx": _Format("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", ("xlsx",)),
}

# Suffixes replaced by the detected extension; any other suffix (``v1.2``, ``rapport.final``)
# is part of the name and kept, the detected extension being appended after it.
KNOWN_EXTENSIONS = frozenset(
    alias for fmt in FORMATS.values() for alias in fmt.aliases
) | frozenset(
    "doc dot docm dotx xls xlsm xlsb xlt csv ppt pptx pptm odp odg rtf txt md html htm xhtml xml "
    "svg gif bmp tif tiff webp heic heif jfif jpe zip rar 7z gz tar exe com bat cmd msi scr sh "
    "js vbs ps1 jar php py pages numbers key".split()
)


class UploadRefused(ValueError):
    """An upload the application will not keep; ``str(exc)`` is the French reason."""


@dataclass(frozen=True)
class CheckedUpload:
    kind: str
    mime: str
    extension: str
    display_name: str
    size: int
    sha256: str


class SupportsRead(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


# Public API ------------------------------------------------------------------------------


def read_limited(stream: SupportsRead, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` (plus one byte, to tell) so an upload is never buffered unbounded."""
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    if remaining <= 0:
        raise UploadRefused(_too_large(max_bytes))
    return b"".join(chunks)


def check_upload(
    filename: str, data: bytes, *, max_bytes: int = MAX_BYTES, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
) -> CheckedUpload:
    """Identify ``data`` from its content and check it is a sound file of an accepted format.

    Raises :class:`UploadRefused` otherwise. The display name is ``filename`` made safe, with
    the extension of the detected format (see the module docstring).
    """
    if not data:
        raise UploadRefused("Le fichier est vide.")
    if len(data) > max_bytes:
        raise UploadRefused(_too_large(max_bytes))
    kind = _detect(data, max_unzipped_bytes)
    fmt = FORMATS[kind]
    name, extension = display_name(filename, kind)
    return CheckedUpload(
        kind=kind, mime=fmt.mime, extension=extension, display_name=name,
        size=len(data), sha256=hashlib.sha256(data).hexdigest(),
    )


def display_name(filename: str, kind: str) -> tuple[str, str]:
    """The name shown for an upload of ``kind``, and its extension.

    Directory parts, control and invisible formatting characters (such as the right-to-left
    override used to disguise ``exe`` names) and leading dots go; Unicode is NFC (accents
    kept); at most 150 characters, extension included; ``document.<ext>`` when nothing is left.
    """
    fmt = FORMATS[kind]
    name = _basename(_visible(unicodedata.normalize("NFC", filename)))
    stem, dot, suffix = name.rpartition(".")
    suffix = suffix.strip().lower()
    if dot and suffix in KNOWN_EXTENSIONS:
        name = stem
    extension = suffix if dot and suffix in fmt.aliases else fmt.extension
    # Removing characters may bring a base letter and a combining accent together.
    stem = re.sub(r" {2,}", " ", unicodedata.normalize("NFC", name)).strip(" .")
    stem = stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip(" .") or DEFAULT_STEM
    return f"{stem}.{extension}", extension


# Messages --------------------------------------------------------------------------------


def _size_label(size: int) -> str:
    """``10 Mo``, ``1,5 Mo``; smaller limits (tests, settings) in ko or octets."""
    for unit, label in ((1024 * 1024, "Mo"), (1024, "ko")):
        if size >= unit // 10:
            value = f"{size / unit:.1f}".removesuffix(".0").replace(".", ",")
            return f"{value} {label}"
    return f"{size} octets"


def file_size_label(size: int) -> str:
    """A size limit as the pages state it: ``10 Mo``."""
    return _size_label(size)


def _too_large(max_bytes: int) -> str:
    return f"Le fichier dépasse la taille maximale autorisée ({_size_label(max_bytes)})."


def _unsupported(hint: str = "") -> UploadRefused:
    return UploadRefused(
        f"Format de fichier non accepté{hint} : le contenu du fichier doit être au format {ACCEPTED_LABEL}."
    )


def _damaged(subject: str) -> UploadRefused:
    return UploadRefused(f"{subject} est incomplet ou endommagé : enregistrez-le de nouveau puis réessayez.")


def _suspect(reason: str) -> UploadRefused:
    return UploadRefused(f"Archive suspecte ({reason}) : le fichier est refusé par sécurité.")


def _password_protected() -> UploadRefused:
    return UploadRefused("Le document est protégé par un mot de passe : enregistrez-le sans mot de passe puis réessayez.")


# Content detection -----------------------------------------------------------------------


def _detect(data: bytes, max_unzipped_bytes: int) -> str:
    if data.startswith(PNG_SIGNATURE):
        _check_png(data)
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        _check_jpeg(data)
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _check_office(data, max_unzipped_bytes)
    if PDF_HEADER.search(data[:PDF_SLACK]):
        _check_pdf(data)
        return "pdf"
    if data.startswith(OLE_SIGNATURE):
        # Old .doc/.xls files, and also password-protected DOCX/XLSX, which Office wraps in OLE.
        raise _unsupported(" (ancien format Word ou Excel, ou document protégé par un mot de passe)")
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        raise _unsupported(" (photo HEIC : enregistrez-la en JPEG)")
    raise _unsupported()


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-PDF_SLACK:]:
        raise _damaged("Le fichier PDF")


def _check_png(data: bytes) -> None:
    """The first chunk must be a well-formed IHDR and the file must end with IEND."""
    header = data[8:33]
    if len(header) < 25 or header[:8] != b"\x00\x00\x00\x0dIHDR":
        raise _damaged("Le fichier PNG")
    (crc,) = struct.unpack(">I", header[21:25])
    if zlib.crc32(header[4:21]) != crc or PNG_IEND not in data[-PDF_SLACK:]:
        raise _damaged("Le fichier PNG")


def _check_jpeg(data: bytes) -> None:
    """The header segments must chain from start of image to a frame, then to start of scan.

    The end-of-image marker is not required: phones often append data after it.
    """
    position, frame = 2, False
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:
            if frame:
                return
            break
        if marker in (0xD8, 0xD9, 0xFF) or marker < 0xC0:
            break
        # SOF markers are C0–CF except DHT (C4), JPG (C8) and DAC (CC).
        frame = frame or marker not in (0xC4, 0xC8, 0xCC) and marker <= 0xCF
        (length,) = struct.unpack(">H", data[position + 2: position + 4])
        if length < 2:
            break
        position += 2 + length
    raise _damaged("Le fichier JPEG")


# Zip-based office documents ----------------------------------------------------------------


def _check_office(data: bytes, max_unzipped_bytes: int) -> str:
    """Check the archive's shape before anything is decompressed, then its structure and CRCs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_shape(members, max_unzipped_bytes, archive_size=len(data))
            kind = _office_kind(archive, members)
            # Every member is decompressed once to check its CRC; the shape check bounds that
            # work, and zipfile never inflates a member past its declared size.
            for member in members:
                with archive.open(member) as stream:
                    while stream.read(_CHUNK):
                        pass
            return kind
    except UploadRefused:
        raise
    # zipfile reports damage through many exception types (CRC, truncation, bad headers…).
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError, OSError,
            RuntimeError, NotImplementedError, ValueError):
        raise _damaged(OFFICE_SUBJECT) from None


def _check_shape(members: list[zipfile.ZipInfo], max_unzipped_bytes: int, *, archive_size: int) -> None:
    if len(members) > MAX_ZIP_ENTRIES:
        raise _suspect(f"plus de {MAX_ZIP_ENTRIES:,} éléments".replace(",", " "))
    unzipped = sum(member.file_size for member in members)
    if unzipped > max_unzipped_bytes:
        raise _suspect(f"plus de {_size_label(max_unzipped_bytes)} une fois décompressée")
    # The whole archive as well as each member: content split into members just under the
    # floor (95 × 1 Mio of zeros in 107 ko) passes every member's check, not this one.
    if unzipped > ARCHIVE_RATIO_FLOOR_BYTES and unzipped > MAX_RATIO * archive_size:
        raise _suspect("taux de compression anormal")
    for member in members:
        if member.flag_bits & 0x1:
            raise _password_protected()
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _damaged(OFFICE_SUBJECT)
        if member.file_size > RATIO_FLOOR_BYTES and member.file_size > MAX_RATIO * member.compress_size:
            raise _suspect("taux de compression anormal")


def _office_kind(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> str:
    names = {member.filename for member in members}
    if members and members[0].filename == "mimetype":
        return _odf_kind(archive, members[0], names)
    if CONTENT_TYPES in names:
        return _ooxml_kind(archive, names)
    raise _unsupported(" (archive ZIP)")


def _odf_kind(archive: zipfile.ZipFile, mimetype: zipfile.ZipInfo, names: set[str]) -> str:
    kinds = {ODF_TEXT: "odt", ODF_SPREADSHEET: "ods"}
    kind = kinds.get(_read_member(archive, mimetype, 100).decode("ascii", "replace"))
    if kind is None:
        raise _unsupported(" (document OpenDocument autre que texte ou tableur)")
    if "content.xml" not in names:
        raise _damaged("Le document OpenDocument")
    manifest = "META-INF/manifest.xml"
    if manifest in names and b"encryption-data" in _read_member(archive, archive.getinfo(manifest), _CHUNK):
        # ODF encrypts the parts inside a normal zip, so the zip flags do not show it.
        raise _password_protected()
    return kind


def _ooxml_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    word, excel = "word/document.xml" in names, "xl/workbook.xml" in names
    if word == excel:
        raise _unsupported(" (document Office autre que Word ou Excel)")
    content_types = _read_member(archive, archive.getinfo(CONTENT_TYPES), _CHUNK).lower()
    if b"macroenabled" in content_types or any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UploadRefused(
            "Les documents contenant des macros ne sont pas acceptés : enregistrez-le en DOCX ou XLSX "
            "sans macros, ou en PDF."
        )
    return "docx" if word else "xlsx"


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    with archive.open(member) as stream:
        return stream.read(limit)


# Names -------------------------------------------------------------------------------------


def _visible(name: str) -> str:
    """Whitespace becomes a plain space; control, format and surrogate characters go."""
    return "".join(
        " " if char.isspace() else char
        for char in name
        if char.isspace() or unicodedata.category(char) not in ("Cc", "Cf", "Cs")
    )


def _basename(name: str) -> str:
    """The last component whether the browser sent a Unix or a Windows path."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"\A[A-Za-z]:", "", name)
