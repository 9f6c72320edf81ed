"""Reading QPV reference lists: the official ANCT CSV and the project's normalised CSV."""

from __future__ import annotations

import csv
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

OFFICIAL_2024_URL = (
    "https://www.data.gouv.fr/api/1/datasets/r/4c6bb7f3-97b6-4834-8a3a-f5f8b3e6735b"
)
HDF_DEPARTEMENTS = ("02", "59", "60", "62", "80")

_INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_QPV_CODE = re.compile(r"^Q[NP]\d{3}\d{3}[A-Z0-9]?$|^Q[NP][0-9A-Z]{5,8}$")


class QpvFileError(ValueError):
    """The file cannot be read as a QPV list; the message is French and names the line."""


@dataclass
class ParsedQpv:
    code: str
    name: str
    communes: dict[str, str] = field(default_factory=dict)  # insee -> commune name


def departement_of(insee: str) -> str:
    return insee[:3] if insee.startswith("97") else insee[:2]


def geography_year(codes: list[str]) -> int:
    """QN… codes belong to the 2024 geography, QP… to 2015."""
    return 2024 if codes and all(c.startswith("QN") for c in codes) else 2015


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise QpvFileError("Encodage du fichier non reconnu (UTF-8 ou Windows-1252 attendu).")


def parse_qpv_csv(raw: bytes, departements: tuple[str, ...] | None = None) -> list[ParsedQpv]:
    """Parse either format, detected from the header; keep only ``departements`` if given."""
    try:
        return _parse_qpv_csv(raw, departements)
    except csv.Error as exc:  # a NUL byte, an unterminated quote: not a CSV file
        raise QpvFileError(f"Le fichier n'est pas un CSV lisible ({exc}).") from exc


def _parse_qpv_csv(raw: bytes, departements: tuple[str, ...] | None) -> list[ParsedQpv]:
    text = _decode(raw)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = headers
    name_column = "nom_qp" if "nom_qp" in headers else "lib_qp" if "lib_qp" in headers else None
    missing = [c for c in ("code_qp", "insee_com") if c not in headers]
    if missing or name_column is None:
        raise QpvFileError(
            "En-tête non reconnu : colonnes attendues code_qp, nom_qp (ou lib_qp), insee_com, "
            f"lib_com ; trouvées : {', '.join(headers) or 'aucune'}."
        )
    result: dict[str, ParsedQpv] = {}
    for line_number, row in enumerate(reader, start=2):
        code = (row.get("code_qp") or "").strip().upper()
        name = (row.get(name_column) or "").strip()
        if not code and not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        if not _QPV_CODE.match(code):
            raise QpvFileError(f"Ligne {line_number} : code QPV « {code} » invalide.")
        if not name:
            raise QpvFileError(f"Ligne {line_number} : nom du QPV {code} manquant.")
        # The official file may list several communes in one cell ("59350;59360").
        codes = [c for c in re.split(r"[\s;,]+", row.get("insee_com") or "") if c]
        names = [n.strip() for n in re.split(r";", row.get("lib_com") or "") if n.strip()]
        if not codes:
            raise QpvFileError(f"Ligne {line_number} : code commune (insee_com) manquant pour {code}.")
        for insee in codes:
            if not _INSEE.match(insee):
                raise QpvFileError(f"Ligne {line_number} : code commune « {insee} » invalide.")
        qpv = result.setdefault(code, ParsedQpv(code=code, name=name))
        if qpv.name != name:
            raise QpvFileError(
                f"Ligne {line_number} : le QPV {code} porte deux noms (« {qpv.name} » et « {name} »)."
            )
        for index, insee in enumerate(codes):
            commune_name = names[index] if len(names) == len(codes) else (names[0] if len(codes) == 1 and names else "")
            qpv.communes.setdefault(insee, commune_name)
    qpvs = list(result.values())
    if departements:
        qpvs = [
            q for q in qpvs if any(departement_of(i) in departements for i in q.communes)
        ]
        for q in qpvs:
            q.communes = {i: n for i, n in q.communes.items() if departement_of(i) in departements}
    if not qpvs:
        raise QpvFileError("Aucun QPV trouvé dans le fichier.")
    return sorted(qpvs, key=lambda q: q.code)


def default_list_name(parsed: list[ParsedQpv]) -> str:
    departements = {departement_of(i) for q in parsed for i in q.communes}
    scope = "Hauts-de-France" if departements <= set(HDF_DEPARTEMENTS) else "France"
    return f"QPV {scope} — géographie {geography_year([q.code for q in parsed])}"


def download_official_list(url: str = OFFICIAL_2024_URL, timeout: float = 20) -> bytes:
    # urlopen also opens file: and custom schemes: only https reaches it.
    if urllib.parse.urlsplit(url).scheme != "https":
        raise QpvFileError(f"Adresse refusée (https uniquement) : {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310  # nosec B310  # https only, checked above
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise QpvFileError(
            "Impossible de télécharger la liste officielle des QPV depuis data.gouv.fr "
            f"(connexion indisponible : {exc}). Chargez un fichier local avec « grants qpv import FICHIER », "
            "ou la liste fournie avec l'application avec « grants qpv import --packaged »."
        ) from exc


# The 204 QPV of Hauts-de-France, 2024 geography, shipped with the package
# (grants/data/README.md: source, licence, how it is regenerated).
PACKAGED_QPV_FILE = Path(__file__).resolve().parent / "data" / "qpv_hdf_2024.csv"
PACKAGED_VERSION_DATE = date(2024, 1, 1)


def reference_qpv_file(config_value: str | None) -> Path:
    """The QPV list to load when none is named: ``GRANTS_QPV_FILE`` when set, else the
    packaged list. Never the network: downloading is ``grants qpv import --official``."""
    if config_value:
        path = Path(config_value)
        if not path.is_file():
            raise QpvFileError(f"GRANTS_QPV_FILE désigne un fichier introuvable : {path}")
        return path
    return PACKAGED_QPV_FILE
