"""Communes of Hauts-de-France, from the vendored @etalab/decoupage-administratif extract."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "communes_hdf.csv"

DEPARTEMENTS = {
    "02": "Aisne",
    "59": "Nord",
    "60": "Oise",
    "62": "Pas-de-Calais",
    "80": "Somme",
}


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    departement: str
    epci_siren: str
    epci_name: str
    postal_codes: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.departement})"


@cache
def communes() -> dict[str, Commune]:
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        return {
            row["insee"]: Commune(
                insee=row["insee"],
                name=row["nom"],
                departement=row["departement"],
                epci_siren=row["epci_siren"],
                epci_name=row["epci_nom"],
                postal_codes=tuple(row["codes_postaux"].split()),
            )
            for row in csv.DictReader(handle)
        }


def commune(insee: str) -> Commune | None:
    return communes().get(insee)
