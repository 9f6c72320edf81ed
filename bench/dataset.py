"""A realistic data set for the benchmark, inserted in bulk through the app's tables.

:class:`Generator` writes, with multi-row INSERTs (no ORM unit of work), what months of
use would leave: five calls (three closed, one open, one kept for the deadline rush),
structures with complete profiles in QPV communes, their users, dossiers in every state
with their submitted versions (snapshot, SHA-256, receipt), attachments, admissibility
checklists, complement requests, messages, instructions, audit entries, and committee
sessions. Content follows ``tests/conftest.py``'s ``COMPLETE_CONTENT`` with variations;
financing plans are computed by ``grants.finance`` exactly as the app stores them.

The generator keeps its state, so a data set can grow (10 → 500 → 2 000 dossiers for the
query counts, then 20 000 in one call for the exports). Ids are given here, sequences
are moved past them at :meth:`Generator.finish`. It runs on PostgreSQL and SQLite (the
test in ``tests/bench`` uses the suite's database).
"""

from __future__ import annotations

import copy
import hashlib
import os
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from grants.dossier_sections import requested_total, submitted_figures, submitted_summary, submitted_title
from grants.admissibility import evaluate
from grants.dossier_sections import strand_inputs
from grants.finance import STRANDS, FinanceRules, compute, split_grant
from grants.geography import commune as find_commune
from grants.models import (
    DEFAULT_ADMISSIBILITY_CRITERIA,
    DEFAULT_REQUIRED_ATTACHMENTS,
    AdmissibilityOutcome,
    AdmissibilityReview,
    AgendaItem,
    Attachment,
    AuditEntry,
    Call,
    CommitteeSession,
    ComplementRequest,
    Decision,
    Dossier,
    DossierState,
    DossierVersion,
    Instruction,
    Message,
    Opinion,
    Qpv,
    QpvCommune,
    QpvList,
    ReferenceCounter,
    Role,
    SessionStatus,
    Structure,
    StructureKind,
    StructureVerification,
    User,
)
from grants.models.committee import session_members
from grants.operations.dossiers import OPTIONAL_ATTACHMENT_TYPES, canonical_json, structure_profile
from grants.qpv_reference import parse_qpv_csv, reference_qpv_file

S = DossierState
DEPARTEMENTS = ("59", "62", "80", "02", "60")
DEPARTEMENT_WEIGHTS = (40, 25, 12, 11, 12)
KIND_WEIGHTS = {StructureKind.mission_locale: 45, StructureKind.plie: 20, StructureKind.association: 25,
                StructureKind.other_spe: 10}
REQUIRED_CODES = [item["code"] for item in DEFAULT_REQUIRED_ATTACHMENTS]
ATTACHMENT_LABELS = {t["code"]: t["label"] for t in [*DEFAULT_REQUIRED_ATTACHMENTS, *OPTIONAL_ATTACHMENT_TYPES]}
RULES = {"fse_rate": Decimal("0.60"), "cej_forfait_per_youth": Decimal("1600.00"),
         "share_reperage": Decimal("0.40"), "share_sortie_emploi": Decimal("0.40"),
         "flat_rate_other_costs": Decimal("0.40")}
PROGRAMME = (
    "Appel à projets FSE+ « Renforcement des parcours d'accompagnement des jeunes vivant dans les "
    "quartiers prioritaires de la politique de la ville (QPV) ». Priorité 2 du programme national "
    "FSE+ 2021-2027, objectif spécifique A (repérage précoce), en complément du contrat d'engagement "
    "jeune. Deux volets : repérage et sortie vers l'emploi."
)

#: Call codes and roles in the data set.
CLOSED_CALLS = ("AAP-QPV-2023", "AAP-QPV-2024")
MAIN_CALL = "AAP-QPV-2025"  # closed, instruction and committees under way: the officer queue
OPEN_CALL = "AAP-QPV-2026"  # open: drafts, save and submission scenarios
RUSH_CALL = "AAP-QPV-2026-B"  # open, its closing moved by the deadline rush

# Share of the dossiers per call, and of the states within each call.
CALL_WEIGHTS = {"AAP-QPV-2023": 10, "AAP-QPV-2024": 15, MAIN_CALL: 55, OPEN_CALL: 20, RUSH_CALL: 0}
STATE_WEIGHTS: dict[str, dict[DossierState, int]] = {
    "closed": {S.selected: 30, S.rejected: 15, S.inadmissible: 10, S.deferred: 3, S.withdrawn: 5, S.draft: 7},
    MAIN_CALL: {S.submitted: 15, S.complements_requested: 8, S.admissible: 12, S.inadmissible: 6,
                S.instructed: 22, S.selected: 10, S.rejected: 6, S.deferred: 4, S.withdrawn: 5, S.draft: 12},
    OPEN_CALL: {S.draft: 55, S.submitted: 30, S.complements_requested: 10, S.withdrawn: 5},
    RUSH_CALL: {S.draft: 1},
}
REVIEWED = {S.admissible, S.inadmissible, S.instructed, S.selected, S.rejected, S.deferred}
INSTRUCTED = {S.instructed, S.selected, S.rejected, S.deferred}
DECIDED = {S.selected: Decision.selected, S.rejected: Decision.rejected, S.deferred: Decision.deferred}

TITLES = (
    "Aller vers les jeunes des quartiers de {commune}",
    "Repérer et accompagner les jeunes invisibles de {commune}",
    "Maraudes et permanences en pied d'immeuble à {commune}",
    "Du repérage à l'emploi durable : jeunes des QPV de {commune}",
    "Passerelle emploi pour les jeunes des quartiers de {commune}",
    "Parrainage et immersions en entreprise, jeunes QPV de {commune}",
)
SUMMARIES = (
    "Maraudes et permanences en pied d'immeuble pour aller vers les jeunes inconnus du service public "
    "de l'emploi, puis accompagnement renforcé vers l'emploi avec un chargé de relations entreprises.",
    "Repérage avec les clubs de prévention et les bailleurs sociaux, entrée en CEJ, immersions en "
    "entreprise et suivi six mois après la sortie vers l'emploi ou la formation.",
    "Équipe mobile de repérage dans les quartiers prioritaires, ateliers collectifs, job-datings avec les "
    "entreprises du bassin et sécurisation des premiers mois dans l'emploi.",
)
POSTS = {
    "reperage": ("Chargé de mission repérage", "Médiateur aller vers", "Animatrice de quartier"),
    "sortie_emploi": ("Chargé relations entreprises", "Conseillère emploi renforcé", "Job coach"),
}
OPINIONS = {
    Opinion.favourable: "Projet cohérent avec les besoins du territoire ; coûts de personnel justifiés.",
    Opinion.reserved: "Projet pertinent mais effectifs de repérage ambitieux au vu des résultats passés.",
    Opinion.unfavourable: "Plus-value insuffisante par rapport à l'accompagnement de droit commun.",
}
MESSAGES = (
    (True, "Bonjour, pouvez-vous préciser les quartiers couverts par les maraudes ?"),
    (False, "Bonjour, les maraudes couvrent les trois QPV indiqués, deux soirs par semaine."),
    (True, "Merci, c'est noté. Le RIB joint est-il bien celui de la structure porteuse ?"),
    (False, "Oui, il s'agit du compte de l'association ; une attestation bancaire suit si besoin."),
)

BENCH_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n"
)


@dataclass
class DatasetSpec:
    dossiers: int = 2000
    structures: int = 100
    #: Attachment rows per dossier on average (20 000 for 2 000 dossiers).
    attachments_per_dossier: float = 10.0
    officers: int = 8
    committee_members: int = 6
    seed: int = 7


@dataclass
class Variant:
    """A financing profile shared by many dossiers (finance is computed once per variant)."""

    public: dict[str, Any]
    resources: dict[str, Any]
    finance: dict[str, Any]
    fse_requested: Decimal
    fse_max: Decimal
    retained: dict[str, Any]
    retained_finance: dict[str, Any]
    fse_retained: Decimal


@dataclass
class Pool:
    """Complete drafts prepared for a write scenario, per structure, with a user who may submit them."""

    call_id: int
    drafts: dict[int, list[int]] = field(default_factory=dict)  # structure id -> dossier ids
    users: dict[int, str] = field(default_factory=dict)  # structure id -> e-mail of a member

    @property
    def dossier_ids(self) -> list[int]:
        return [d for ids in self.drafts.values() for d in ids]


class Generator:
    """Inserts the data set; every ``add_*`` flushes its rows, the caller commits."""

    def __init__(self, session: Session, spec: DatasetSpec, *, password_hash: str,
                 storage_dir: str | Path | None = None) -> None:
        self.session = session
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.password_hash = password_hash
        self.storage = Path(storage_dir) if storage_dir else None
        self.dialect = session.get_bind().dialect.name
        self.now = datetime.now(UTC).replace(microsecond=0)
        self._ids: dict[str, int] = {}
        self._made_dirs: set[Path] = set()
        self.counts: Counter[str] = Counter()
        self.calls: dict[str, dict[str, Any]] = {}
        self.structures: list[dict[str, Any]] = []
        self.members: dict[int, list[int]] = defaultdict(list)  # structure id -> applicant ids
        self.emails: dict[int, str] = {}
        self.officers: list[int] = []
        self.admin_id = 0
        self.committee: list[int] = []
        self.qpv_by_dep: dict[str, list[str]] = defaultdict(list)
        self.qpv_codes: set[str] = set()
        self.variants: list[Variant] = []
        self.receipts: list[tuple[str, str]] = []
        self.reference_numbers: dict[int, int] = {}
        self.session_numbers: dict[int, int] = {}
        self.auto_answers: dict[tuple[int, int], dict[str, Any]] = {}
        self.by_state: dict[tuple[str, DossierState], list[int]] = defaultdict(list)
        self.decided_in_session: set[int] = set()
        self.showcase_id: int | None = None
        self.qpv_communes: dict[str, list[str]] = defaultdict(list)
        self.pack_session_id: int | None = None

    # Ids and inserts ------------------------------------------------------------------------

    def _next(self, table: Table) -> int:
        name = table.name
        if name not in self._ids:
            self._ids[name] = (self.session.scalar(select(func.max(table.c.id))) or 0) + 1
        value = self._ids[name]
        self._ids[name] += 1
        return value

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        table = model if isinstance(model, Table) else model.__table__
        self.session.execute(table.insert(), rows)
        self.counts[table.name] += len(rows)

    def _store(self, data: bytes) -> tuple[str, int, str]:
        """A file in the app's store layout (``ab/cd/abcd…``); name, size, SHA-256.

        Names start with ``be0`` and one of 16 digits: 16 directories instead of thousands
        (creating them was most of the generation time)."""
        name = "be0%x%028x" % (self.rng.getrandbits(4), self.rng.getrandbits(112))
        if self.storage is not None:
            directory = self.storage / name[:2] / name[2:4]
            if directory not in self._made_dirs:
                directory.mkdir(parents=True, exist_ok=True)
                self._made_dirs.add(directory)
            (directory / name).write_bytes(data)  # no fsync: a throw-away store
        return name, len(data), hashlib.sha256(data).hexdigest()

    # Reference data -------------------------------------------------------------------------

    def add_base(self) -> None:
        """QPV list, calls, structures and users (staff and applicants)."""
        qpv_list_id = self._add_qpv_list()
        self._add_calls(qpv_list_id)
        self._add_structures(self.spec.structures)
        self._add_staff()
        self.receipts = [self._store(BENCH_PDF + f"% accusé de réception {i}\n".encode()) for i in range(8)]
        self._make_variants(40)
        self.session.flush()

    def _add_qpv_list(self) -> int:
        path = reference_qpv_file(os.environ.get("GRANTS_QPV_FILE"))
        parsed = parse_qpv_csv(path.read_bytes(), DEPARTEMENTS)
        entries = [(q.code, q.name, sorted(q.communes.items())) for q in parsed]
        list_id = self._next(QpvList.__table__)
        self._insert(QpvList, [{"id": list_id, "name": "QPV Hauts-de-France 2024 (banc d'essai)",
                                "geography_year": 2024, "version_date": date(2024, 1, 1),
                                "source": "bench", "imported_at": self.now}])
        qpvs, communes = [], []
        for code, name, places in entries:
            qpv_id = self._next(Qpv.__table__)
            qpvs.append({"id": qpv_id, "qpv_list_id": list_id, "code": code, "name": name})
            for insee, commune_name in places:
                dep = insee[:2]
                communes.append({"id": self._next(QpvCommune.__table__), "qpv_id": qpv_id, "insee": insee,
                                 "name": commune_name or insee, "departement": dep})
                if code not in self.qpv_by_dep[dep]:
                    self.qpv_by_dep[dep].append(code)
            self.qpv_codes.add(code)
        self._insert(Qpv, qpvs)
        self._insert(QpvCommune, communes)
        for row in communes:
            self.qpv_communes[row["departement"]].append(row["insee"])
        return list_id

    def _add_calls(self, qpv_list_id: int) -> None:
        now = self.now
        windows = {
            "AAP-QPV-2023": (datetime(2022, 11, 24, 23, tzinfo=UTC), datetime(2023, 3, 26, 21, 59, tzinfo=UTC)),
            "AAP-QPV-2024": (datetime(2023, 11, 20, 23, tzinfo=UTC), datetime(2024, 3, 31, 21, 59, tzinfo=UTC)),
            MAIN_CALL: (now - timedelta(days=300), now - timedelta(days=60)),
            OPEN_CALL: (now - timedelta(days=60), now + timedelta(days=90)),
            RUSH_CALL: (now - timedelta(days=30), now + timedelta(days=30)),
        }
        rows = []
        for code, (opens, closes) in windows.items():
            call_id = self._next(Call.__table__)
            row = {
                "id": call_id, "code": code, "programme": PROGRAMME, "opens_at": opens, "closes_at": closes,
                "title": "Renforcement des parcours d'accompagnement des jeunes vivant dans les QPV"
                         + ("" if code == "AAP-QPV-2023" else f" — édition {code[8:]}"),
                "envelope": Decimal("4000000.00"), **RULES,
                "required_attachments": DEFAULT_REQUIRED_ATTACHMENTS,
                "admissibility_criteria": DEFAULT_ADMISSIBILITY_CRITERIA, "qpv_list_id": qpv_list_id,
                "created_at": opens - timedelta(days=20), "updated_at": opens - timedelta(days=20), "version": 1,
            }
            rows.append(row)
            self.calls[code] = row
        self._insert(Call, rows)

    def _add_structures(self, count: int) -> None:
        rows = []
        for _ in range(count):
            structure_id = self._next(Structure.__table__)
            n = structure_id
            dep = self.rng.choices(DEPARTEMENTS, DEPARTEMENT_WEIGHTS)[0]
            insee = self.rng.choice(self.qpv_communes.get(dep) or ["59350"])
            place = find_commune(insee)
            kind = self.rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
            commune_name = place.name if place else insee
            prefix = {StructureKind.mission_locale: "Mission locale", StructureKind.plie: "PLIE",
                      StructureKind.association: "Association Avenir Jeunes",
                      StructureKind.other_spe: "Maison de l'emploi"}[kind]
            row = {
                "id": structure_id, "name": f"{prefix} de {commune_name} ({n})", "siret": _siret(7_000_000 + n),
                "legal_form": "Groupement d'intérêt public" if kind is StructureKind.plie else "Association loi 1901",
                "kind": kind, "address": f"{n} rue de la République",
                "postal_code": (place.postal_codes[0] if place and place.postal_codes else f"{dep}000"),
                "commune_insee": insee, "commune_name": commune_name, "departement": dep,
                "legal_rep_name": f"Claire Exemple {n}", "legal_rep_title": "Présidente",
                "contact_name": f"Karim Démo {n}", "contact_email": f"contact@structure{n}.bench",
                "contact_phone": "03 27 00 00 00", "created_at": self.now - timedelta(days=900), "version": 1,
                # Verified by DREETS staff long ago (issue 14): the admissibility criterion passes.
                "verification": StructureVerification.verified, "verified_at": self.now - timedelta(days=899),
            }
            rows.append(row)
            self.structures.append(row)
        self._insert(Structure, rows)
        users = []
        for row in rows:
            # One applicant per structure, a second one for a third of them.
            for k in range(1 if row["id"] % 3 else 2):
                users.append(self._user_row(f"porteur{k + 1}@structure{row['id']}.bench",
                                            f"Porteur {k + 1} structure {row['id']}", Role.applicant, row["id"]))
        self._insert(User, users)

    def _user_row(self, email: str, name: str, role: Role, structure_id: int | None = None) -> dict[str, Any]:
        user_id = self._next(User.__table__)
        self.emails[user_id] = email
        if structure_id is not None:
            self.members[structure_id].append(user_id)
        return {
            "id": user_id, "email": email, "full_name": name, "role": role, "structure_id": structure_id,
            "password_hash": self.password_hash, "is_active": True, "session_token": "%048x" % self.rng.getrandbits(192),
            "failed_logins": 0, "locked_until": None, "created_at": self.now - timedelta(days=800),
            "last_login_at": None, "password_changed_at": self.now - timedelta(days=800),
        }

    def _add_staff(self) -> None:
        rows = [self._user_row("admin@dreets-hdf.bench", "Alice Administratrice", Role.admin)]
        self.admin_id = rows[0]["id"]
        for i in range(1, self.spec.officers + 1):
            rows.append(self._user_row(f"instructeur{i}@dreets-hdf.bench", f"Instructeur·rice {i:02d}", Role.officer))
            self.officers.append(rows[-1]["id"])
        for i in range(1, self.spec.committee_members + 1):
            rows.append(self._user_row(f"comite{i}@prefecture-hdf.bench", f"Membre du comité {i:02d}", Role.committee))
            self.committee.append(rows[-1]["id"])
        self._insert(User, rows)

    def _rules(self) -> FinanceRules:
        return FinanceRules(
            fse_rate=RULES["fse_rate"], cej_forfait_per_youth=RULES["cej_forfait_per_youth"],
            strand_share={"reperage": RULES["share_reperage"], "sortie_emploi": RULES["share_sortie_emploi"]},
            flat_rate_other_costs=RULES["flat_rate_other_costs"],
        )

    def _make_variants(self, count: int) -> None:
        rules = self._rules()
        while len(self.variants) < count:
            youth = {s: self.rng.randrange(40, 220) for s in ("reperage", "sortie_emploi")}
            public = {
                "reperage": {"nb_jeunes": youth["reperage"] + self.rng.randrange(0, 60), "nb_jeunes_qpv": youth["reperage"]},
                "sortie_emploi": {"nb_jeunes": youth["sortie_emploi"] + self.rng.randrange(0, 40),
                                  "nb_jeunes_qpv": youth["sortie_emploi"]},
                "age_min": 16, "age_max": self.rng.choice((25, 25, 29)),
                "cej_qpv_share_current": self.rng.choice(("12.5", "18.5", "21")), "cej_qpv_share_target": "30",
            }
            resources = {
                strand: {
                    "posts": [
                        {"label": self.rng.choice(POSTS[strand]), "category": "staff",
                         "annual_cost": f"{self.rng.randrange(34000, 52000, 500)}.00",
                         "fte": self.rng.choice(("1", "1", "0.8", "0.5")), "months": 24}
                        for _ in range(self.rng.randint(1, 3))
                    ],
                    "cofinancing": ([{"funder": "Conseil départemental", "amount": f"{self.rng.randrange(5, 30) * 1000}.00",
                                      "status": "acquired"}]
                                    if self.rng.random() < 0.3 else []),
                    "requested": None,
                }
                for strand in ("reperage", "sortie_emploi")
            }
            content = {"public": public, "resources": resources}
            result = compute(rules, strand_inputs(content))
            if result.has_errors:
                continue
            retained_content = copy.deepcopy(content)
            for strand in ("reperage", "sortie_emploi"):
                qpv = retained_content["public"][strand]["nb_jeunes_qpv"]
                retained_content["public"][strand]["nb_jeunes_qpv"] = max(qpv - self.rng.randrange(0, 30), 20)
            retained = compute(rules, strand_inputs(retained_content))
            if retained.has_errors:
                continue
            self.variants.append(Variant(
                public=public, resources=resources, finance=result.to_snapshot(),
                fse_requested=sum((result.strands[s]["fse"] for s in ("reperage", "sortie_emploi")), Decimal("0.00")),
                fse_max=result.totals["fse_max"], retained=retained_content,
                retained_finance=retained.to_snapshot(), fse_retained=retained.totals["fse"],
            ))

    # Dossiers -------------------------------------------------------------------------------

    def add_dossiers(self, count: int, *, call_code: str | None = None,
                     states: dict[DossierState, int] | None = None, full: bool = True,
                     structure_ids: Sequence[int] | None = None) -> list[int]:
        """``count`` dossiers spread over the calls (or in ``call_code``) and their states.

        ``full`` adds what surrounds a dossier (versions, attachments, messages, audit
        entries); without it, only the rows the queue and its exports read are written.
        """
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        codes = list(CALL_WEIGHTS)
        ids = []
        for _ in range(count):
            code = call_code or self.rng.choices(codes, list(CALL_WEIGHTS.values()))[0]
            weights = states or STATE_WEIGHTS.get(code) or STATE_WEIGHTS["closed"]
            state = self.rng.choices(list(weights), list(weights.values()))[0]
            structure = self._structure_for(structure_ids)
            ids.append(self._dossier(rows, self.calls[code], structure, state, full=full))
        self._flush_rows(rows)
        return ids

    def _structure_for(self, structure_ids: Sequence[int] | None) -> dict[str, Any]:
        if structure_ids:
            wanted = self.rng.choice(structure_ids)
            return next(s for s in self.structures if s["id"] == wanted)
        return self.rng.choice(self.structures)

    def _flush_rows(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        order = (Dossier, DossierVersion, Attachment, AdmissibilityReview, ComplementRequest, Message,
                 Instruction, AuditEntry)
        for model in order:
            self._insert(model, rows.pop(model.__tablename__, []))
        self.session.flush()

    def _content(self, call: dict[str, Any], structure: dict[str, Any], variant: Variant) -> dict[str, Any]:
        codes = self.qpv_by_dep.get(structure["departement"]) or sorted(self.qpv_codes)[:3]
        start = date(call["closes_at"].year + 1, 1, 1)
        return {
            "identification": {"contact_name": structure["contact_name"], "contact_email": structure["contact_email"],
                               "contact_phone": structure["contact_phone"], "consortium": "no"},
            "project": {"title": self.rng.choice(TITLES).format(commune=structure["commune_name"]),
                        "summary": self.rng.choice(SUMMARIES), "start_date": start.isoformat(),
                        "end_date": date(start.year + 1, 12, 31).isoformat()},
            "territories": {"qpv_codes": sorted(self.rng.sample(codes, min(len(codes), self.rng.randint(1, 3))))},
            "public": copy.deepcopy(variant.public),
            "resources": copy.deepcopy(variant.resources),
            "indicators": {"identified": 250, "identified_qpv": 200, "cej_entries": 120, "exits_employment": 60,
                           "exits_training": 30, "exits_apprenticeship": 10, "retention_6_months": 40},
            "declaration": {"signatory_name": structure["legal_rep_name"],
                            "signatory_quality": structure["legal_rep_title"], "sworn": True},
        }

    def _when(self, call: dict[str, Any]) -> datetime:
        """A submission moment inside the call's window (and in the past)."""
        start = call["opens_at"] + timedelta(days=5)
        end = min(call["closes_at"] - timedelta(minutes=1), self.now - timedelta(hours=1))
        return start + timedelta(seconds=self.rng.randrange(max(int((end - start).total_seconds()), 1)))

    def _counter(self, numbers: dict[int, int], call_id: int, column: str) -> int:
        """The next number of one of the call's counters (``ReferenceCounter``), as the app gives it."""
        if call_id not in numbers:
            numbers[call_id] = self.session.scalar(
                select(getattr(ReferenceCounter, column)).where(ReferenceCounter.call_id == call_id)
            ) or 0
        numbers[call_id] += 1
        return numbers[call_id]

    def _reference(self, call: dict[str, Any], submitted_at: datetime) -> str:
        return f"{call['code']}-{self._counter(self.reference_numbers, call['id'], 'last_number'):04d}"

    def _dossier(self, rows: dict[str, list[dict[str, Any]]], call: dict[str, Any], structure: dict[str, Any],
                 state: DossierState, *, full: bool, complete: bool = False, rich: bool = False) -> int:
        rng = self.rng
        dossier_id = self._next(Dossier.__table__)
        variant = rng.choice(self.variants)
        content = self._content(call, structure, variant)
        author = rng.choice(self.members[structure["id"]])
        submitted = state not in (S.draft, S.withdrawn) or (state is S.withdrawn and rng.random() < 0.6)
        if state is S.draft and not complete and rng.random() < 0.4:
            for key in rng.sample(["project", "territories", "public", "resources", "indicators", "declaration"],
                                  rng.randint(1, 4)):
                content.pop(key)
        has_finance = "public" in content and "resources" in content
        submitted_at = self._when(call) if submitted else None
        created_at = (submitted_at or self._when(call)) - timedelta(days=rng.randint(1, 20))
        created_at = max(created_at, call["opens_at"] + timedelta(hours=1))
        last = submitted_at or created_at + timedelta(hours=rng.randint(1, 200))
        reference = self._reference(call, submitted_at) if submitted_at else None
        assigned = rng.choice(self.officers) if submitted and self.officers and rng.random() < 0.7 else None
        withdrawn_at = last + timedelta(days=rng.randint(1, 20)) if state is S.withdrawn else None
        row = {
            "id": dossier_id, "call_id": call["id"], "structure_id": structure["id"], "state": state,
            "reference": reference, "title": content.get("project", {}).get("title", ""), "content": content,
            "finance": variant.finance if has_finance else None,
            "fse_requested_total": variant.fse_requested if has_finance else None,
            "fse_max_total": variant.fse_max if has_finance else None,
            "created_by_id": author, "assigned_to_id": assigned, "created_at": created_at,
            "updated_at": withdrawn_at or last, "submitted_at": submitted_at, "withdrawn_at": withdrawn_at,
            "version": 1 if state is S.draft and complete else rng.randint(8, 20),
        }
        # Every row of a multi-row INSERT has the same keys.
        row.update(self._submitted_columns(variant.finance if has_finance else None, 1, content)
                   if submitted_at is not None
                   else {"submitted_version": None, "submitted_figures": None, "submitted_fse_requested": None,
                         "submitted_fse_max": None, "submitted_title": None, "submitted_summary": None})
        rows["dossiers"].append(row)
        self.by_state[(call["code"], state)].append(dossier_id)
        audit = [("dossier.create", created_at, author, None, "draft", {"call": call["code"]})]

        attachments = self._attachments(rows, dossier_id, author, created_at, complete or submitted) if full else []
        if full:
            audit += [("dossier.save_section", created_at + timedelta(minutes=5 * i), author, None, None, {"section": key})
                      for i, key in enumerate(content)]
            audit += [("dossier.add_attachment", a["uploaded_at"], author, None, None,
                       {"type": a["type_code"], "name": a["display_name"], "sha256": a["sha256"], "replaced": []})
                      for a in attachments[:8]]
        if submitted_at is not None:
            current = [a for a in attachments if a["removed_at"] is None]
            version = self._version(rows, row, call, structure, author, 1, "submission", submitted_at, current) if full else None
            audit.append(("dossier.submitted", submitted_at, author, "draft", "submitted",
                          {"reference": reference, "sha256": version["sha256"] if version else "", "version": 1}))
            self._after_submission(rows, row, call, structure, variant, author, current, audit, full=full, rich=rich)
        if state is S.withdrawn:
            audit.append(("dossier.withdrawn", withdrawn_at, author, "submitted" if submitted else "draft", "withdrawn", {}))
        if full:
            rows["audit_entries"] += [
                {"id": self._next(AuditEntry.__table__), "at": at, "actor_id": actor, "action": action,
                 "object_type": "Dossier", "object_id": dossier_id, "from_state": source, "to_state": target,
                 "details": details, "ip": "10.0.0.%d" % (actor % 250)}
                for action, at, actor, source, target, details in audit
            ]
        return dossier_id

    def _attachments(self, rows: dict[str, list[dict[str, Any]]], dossier_id: int, author: int, created_at: datetime,
                     complete: bool) -> list[dict[str, Any]]:
        rng = self.rng
        extra_mean = max(self.spec.attachments_per_dossier - len(REQUIRED_CODES), 0)
        required = REQUIRED_CODES if complete else rng.sample(REQUIRED_CODES, rng.randint(0, len(REQUIRED_CODES)))
        extras = rng.randint(0, int(round(2 * extra_mean)))
        made = []
        when = created_at + timedelta(hours=1)
        plan = [(code, None) for code in required]
        for _ in range(extras):
            roll = rng.random()
            if roll < 0.45:
                plan.insert(0, (rng.choice(REQUIRED_CODES), "replaced"))  # an earlier file, replaced since
            else:
                plan.append(("cer" if roll < 0.6 else "autre", None))
        for code, status in plan:
            when += timedelta(minutes=rng.randint(1, 90))
            number = self._ids.get("attachments", 0)
            name, size, sha = self._store(BENCH_PDF + f"% pièce {number} {code}\n".encode())
            row = {
                "id": self._next(Attachment.__table__), "dossier_id": dossier_id, "type_code": code,
                "display_name": f"{ATTACHMENT_LABELS[code][:60]}.pdf", "storage_name": name, "kind": "pdf",
                "mime": "application/pdf", "size": size, "sha256": sha, "uploaded_at": when,
                "uploaded_by_id": author, "removed_at": when + timedelta(days=1) if status == "replaced" else None,
            }
            made.append(row)
        rows["attachments"] += made
        return made

    def _submitted_columns(self, finance: dict[str, Any] | None, number: int,
                           content: dict[str, Any]) -> dict[str, Any]:
        """What freezing version ``number`` copies onto the dossier row (operations.dossiers)."""
        figures = submitted_figures(finance)
        snapshot = {"content": content, "finance": finance}
        return {
            "submitted_version": number, "submitted_figures": figures,
            "submitted_fse_requested": requested_total(figures),
            "submitted_fse_max": Decimal(figures["result"]["totals"]["fse_max"]) if figures else None,
            "submitted_title": submitted_title(snapshot), "submitted_summary": submitted_summary(snapshot),
        }

    def _version(self, rows: dict[str, list[dict[str, Any]]], dossier: dict[str, Any], call: dict[str, Any],
                 structure: dict[str, Any], author: int, number: int, kind: str, at: datetime,
                 attachments: list[dict[str, Any]]) -> dict[str, Any]:
        snapshot = {
            "reference": dossier["reference"], "version": number, "kind": kind,
            "submitted_at": dossier["submitted_at"].isoformat(), "frozen_at": at.isoformat(),
            "submitted_by": {"id": author, "name": f"Porteur {author}", "email": self.emails[author]},
            "call": {"code": call["code"], "title": call["title"], "closes_at": call["closes_at"].isoformat()},
            "structure": structure_profile(_StructureView(structure)),
            "content": dossier["content"],
            "attachments": [
                {"id": a["id"], "type_code": a["type_code"], "type_label": ATTACHMENT_LABELS[a["type_code"]],
                 "display_name": a["display_name"], "size": a["size"], "sha256": a["sha256"]}
                for a in attachments
            ],
            "finance": dossier["finance"],
        }
        receipt_name, _, receipt_sha = self.rng.choice(self.receipts)
        version = {
            "id": self._next(DossierVersion.__table__), "dossier_id": dossier["id"], "number": number, "kind": kind,
            "snapshot": snapshot, "sha256": hashlib.sha256(canonical_json(snapshot)).hexdigest(), "created_at": at,
            "created_by_id": author, "receipt_file": receipt_name, "receipt_sha256": receipt_sha,
        }
        rows["dossier_versions"].append(version)
        return version

    def _after_submission(self, rows: dict[str, list[dict[str, Any]]], dossier: dict[str, Any], call: dict[str, Any],
                          structure: dict[str, Any], variant: Variant, author: int,
                          attachments: list[dict[str, Any]], audit: list[tuple[Any, ...]], *, full: bool,
                          rich: bool = False) -> None:
        rng = self.rng
        state: DossierState = dossier["state"]
        officer = dossier["assigned_to_id"] or (rng.choice(self.officers) if self.officers else self.admin_id)
        at = dossier["submitted_at"]
        if full and state is not S.withdrawn:
            for from_staff, body in MESSAGES[: 4 if rich else rng.choice((0, 0, 1, 2, 4))]:
                at += timedelta(hours=rng.randint(2, 48))
                rows["messages"].append({
                    "id": self._next(Message.__table__), "dossier_id": dossier["id"],
                    "author_id": officer if from_staff else author, "from_staff": from_staff, "body": body,
                    "created_at": at, "read_at": at + timedelta(hours=3), "attachment_name": None,
                    "attachment_file": None, "attachment_mime": None, "attachment_size": None,
                    "attachment_sha256": None,
                })
        answered = full and (state in REVIEWED or state is S.submitted) and (rich or rng.random() < 0.25)
        if state is S.complements_requested or answered:
            at += timedelta(days=rng.randint(3, 20))
            answered_at = at + timedelta(days=rng.randint(2, 10)) if answered else None
            rows["complement_requests"].append({
                "id": self._next(ComplementRequest.__table__), "dossier_id": dossier["id"],
                "sections": ["resources"], "attachment_types": ["rib"],
                "message": "Merci de joindre un RIB à jour et de préciser le coût du poste de repérage.",
                "due_date": (at + timedelta(days=14)).date(), "requested_at": at, "requested_by_id": officer,
                "answered_at": answered_at, "answered_version": 2 if answered else None,
            })
            audit.append(("dossier.complements_requested", at, officer, "submitted", "complements_requested", {}))
            if answered:
                self._version(rows, dossier, call, structure, author, 2, "complements", answered_at, attachments)
                dossier.update(self._submitted_columns(dossier["finance"], 2, dossier["content"]))
                audit.append(("dossier.submitted", answered_at, author, "complements_requested", "submitted",
                              {"version": 2}))
                at = answered_at
        if state in REVIEWED or (state is S.submitted and rng.random() < 0.3):
            decided = state in REVIEWED
            at += timedelta(days=rng.randint(2, 15))
            outcome = (AdmissibilityOutcome.inadmissible if state is S.inadmissible
                       else AdmissibilityOutcome.admissible if decided else None)
            answers = self._answers(call, variant, dossier, failed=state is S.inadmissible)
            rows["admissibility_reviews"].append({
                "id": self._next(AdmissibilityReview.__table__), "dossier_id": dossier["id"], "answers": answers,
                "outcome": outcome,
                "motive": "Attestation de régularité sociale absente malgré la demande de compléments."
                          if state is S.inadmissible else "",
                "decided_at": at if decided else None, "decided_by_id": officer if decided else None,
                "updated_at": at, "version": rng.randint(1, 3),
            })
            if decided:
                audit.append((f"dossier.{outcome.value}", at, officer, "submitted", outcome.value, {}))
        if state in INSTRUCTED or (state is S.admissible and rng.random() < 0.4):
            final = state in INSTRUCTED
            at += timedelta(days=rng.randint(5, 30))
            opinion = rng.choices(list(OPINIONS), (70, 20, 10))[0]
            rows["instructions"].append({
                "id": self._next(Instruction.__table__), "dossier_id": dossier["id"],
                "retained": {"public": variant.retained["public"], "resources": variant.retained["resources"]},
                "finance": variant.retained_finance, "fse_retained_total": variant.fse_retained,
                "opinion": opinion, "opinion_text": OPINIONS[opinion], "instructed_at": at if final else None,
                "instructed_by_id": officer if final else None, "updated_at": at, "version": rng.randint(1, 4),
            })
            if final:
                audit.append(("dossier.instructed", at, officer, "admissible", "instructed", {"opinion": opinion.value}))

    def _answers(self, call: dict[str, Any], variant: Variant, dossier: dict[str, Any], *, failed: bool) -> dict[str, Any]:
        key = (id(variant), len(dossier["content"].get("territories", {}).get("qpv_codes", [])))
        if key not in self.auto_answers:
            snapshot = {"submitted_at": dossier["submitted_at"].isoformat(), "content": dossier["content"],
                        "attachments": [{"type_code": c} for c in REQUIRED_CODES], "finance": variant.finance}
            verdicts = evaluate(snapshot, closes_at=call["closes_at"], required_types=REQUIRED_CODES,
                                reference_qpv=self.qpv_codes, structure_verified_at=self.now - timedelta(days=899))
            self.auto_answers[key] = {
                criterion["code"]: {
                    "auto": verdicts[criterion["code"]].value if criterion["auto"] else None,
                    "auto_reason": verdicts[criterion["code"]].reason if criterion["auto"] else "",
                    "value": verdicts[criterion["code"]].value if criterion["auto"] else "pass",
                    "comment": "" if criterion["auto"] else "Vérifié sur pièces.",
                }
                for criterion in DEFAULT_ADMISSIBILITY_CRITERIA
            }
        answers = copy.deepcopy(self.auto_answers[key])
        if failed:
            answers["tax_social"] = {"auto": None, "auto_reason": "", "value": "fail",
                                     "comment": "Attestation URSSAF non fournie."}
        return answers

    # Pools of complete drafts (write scenarios) ---------------------------------------------

    def add_pool(self, call_code: str, structure_ids: Iterable[int], per_structure: int) -> Pool:
        """Complete drafts with their required attachments, ready to be submitted (version 1)."""
        call = self.calls[call_code]
        pool = Pool(call_id=call["id"])
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for structure_id in structure_ids:
            structure = next(s for s in self.structures if s["id"] == structure_id)
            pool.users[structure_id] = self.emails[self.members[structure_id][0]]
            pool.drafts[structure_id] = [
                self._dossier(rows, call, structure, S.draft, full=True, complete=True) for _ in range(per_structure)
            ]
        self._flush_rows(rows)
        return pool

    # Committee ------------------------------------------------------------------------------

    def add_committee(self, pack_size: int = 50) -> None:
        """Closed sessions holding the decided dossiers of each call (40 per session), and a
        planned session of the main call with ``pack_size`` instructed dossiers on its agenda."""
        sessions, members, items = [], [], []
        granted: Counter[int] = Counter()
        retained = dict(self.session.execute(select(Instruction.dossier_id, Instruction.fse_retained_total)).all())
        self.retained_strands = self._retained_strands(sorted(
            d for code in self.calls for d in self.by_state[(code, S.selected)] if d not in self.decided_in_session))
        for code, call in self.calls.items():
            decided = [(d, state) for state in DECIDED for d in self.by_state[(code, state)]
                       if d not in self.decided_in_session]
            decided.sort()
            for start in range(0, len(decided), 40):
                meets = call["closes_at"] + timedelta(days=45 + 14 * (start // 40))
                session_id = self._next(CommitteeSession.__table__)
                sessions.append(self._session_row(session_id, call, meets, SessionStatus.closed))
                members += [{"session_id": session_id, "user_id": u} for u in self.committee]
                for position, (dossier_id, state) in enumerate(decided[start:start + 40], start=1):
                    amount = retained.get(dossier_id) if state is S.selected else None
                    if amount is not None:
                        amount = (amount * Decimal("0.95")).quantize(Decimal("0.01"), ROUND_DOWN)
                        granted[call["id"]] += amount
                    items.append(self._item_row(session_id, dossier_id, position, DECIDED[state], amount, meets))
                    self.decided_in_session.add(dossier_id)
        main = self.calls[MAIN_CALL]
        if self.pack_session_id is None:
            pending = sorted(self.by_state[(MAIN_CALL, S.instructed)])[:pack_size]
            session_id = self._next(CommitteeSession.__table__)
            sessions.append(self._session_row(session_id, main, self.now + timedelta(days=10), SessionStatus.planned))
            members += [{"session_id": session_id, "user_id": u} for u in self.committee]
            items += [self._item_row(session_id, d, position, None, None, None)
                      for position, d in enumerate(pending, start=1)]
            self.pack_session_id = session_id
        self._insert(CommitteeSession, sessions)
        self._insert(session_members, members)
        self._insert(AgendaItem, items)
        # Envelopes large enough for what was granted (a generated volume, not a real call).
        for call_id, total in granted.items():
            self.session.execute(
                Call.__table__.update().where(Call.__table__.c.id == call_id)
                .values(envelope=max(Decimal("4000000.00"), (total * Decimal("1.25")).quantize(Decimal("1"))))
            )
        self.session.flush()

    def _session_row(self, session_id: int, call: dict[str, Any], meets: datetime,
                     status: SessionStatus) -> dict[str, Any]:
        closed = status is SessionStatus.closed
        return {
            "id": session_id, "call_id": call["id"], "meets_at": meets, "status": status,
            "number": self._counter(self.session_numbers, call["id"], "last_session_number"),
            "convocation_sent_at": None, "convocation_fingerprint": None,
            "place": "Préfecture de région, salle du conseil, Lille", "chair_name": "M. le Secrétaire général",
            "chair_quality": "Représentant du Préfet de la région Hauts-de-France",
            "held_at": meets if closed else None, "closed_at": meets + timedelta(hours=3) if closed else None,
            "minutes_file": None, "minutes_sha256": None, "created_at": meets - timedelta(days=20),
            "created_by_id": self.officers[0] if self.officers else self.admin_id, "version": 1,
        }

    def _item_row(self, session_id: int, dossier_id: int, position: int, decision: Decision | None,
                  amount: Decimal | None, decided_at: datetime | None) -> dict[str, Any]:
        return {
            "id": self._next(AgendaItem.__table__), "session_id": session_id, "dossier_id": dossier_id,
            "position": position, "decision": decision, "amount_granted": amount,
            **self._strand_amounts(dossier_id, amount),
            "motive": "Plus-value insuffisante par rapport au droit commun." if decision is Decision.rejected else "",
            "decided_at": decided_at, "decided_by_id": (self.officers[0] if self.officers else self.admin_id)
            if decision else None, "letter_file": None, "letter_sha256": None,
        }

    def _retained_strands(self, dossier_ids: list[int]) -> dict[int, dict[str, Decimal]]:
        """The retained FSE+ per strand of ``dossier_ids`` (read by chunks: the plans are large)."""
        found: dict[int, dict[str, Decimal]] = {}
        for start in range(0, len(dossier_ids), 500):
            chunk = dossier_ids[start:start + 500]
            for dossier_id, finance in self.session.execute(
                select(Instruction.dossier_id, Instruction.finance).where(Instruction.dossier_id.in_(chunk))
            ):
                strands = ((finance or {}).get("result") or {}).get("strands") or {}
                found[dossier_id] = {s: Decimal(str((strands.get(s) or {}).get("fse") or "0")) for s in STRANDS}
        return found

    def _strand_amounts(self, dossier_id: int, amount: Decimal | None) -> dict[str, Decimal | None]:
        """The grant per strand, shared as the app shares a total (grants.finance.split_grant)."""
        if amount is None:
            return {"granted_reperage": None, "granted_sortie_emploi": None}
        shares = split_grant(amount, self.retained_strands.get(dossier_id, {}))
        return {"granted_reperage": shares["reperage"], "granted_sortie_emploi": shares["sortie_emploi"]}

    # Showcase and end -----------------------------------------------------------------------

    def add_showcase(self) -> int:
        """One instructed dossier of the main call with everything around it (two versions,
        messages, checklist, instruction): the officer dossier page measured at every size."""
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.showcase_id = self._dossier(rows, self.calls[MAIN_CALL], self.structures[0], S.instructed,
                                         full=True, rich=True)
        self._flush_rows(rows)
        return self.showcase_id

    def finish(self) -> None:
        """Reference counters at the last number given, sequences past the ids given here."""
        table = ReferenceCounter.__table__
        for call_id in sorted(set(self.reference_numbers) | set(self.session_numbers)):
            values = {"last_number": self.reference_numbers.get(call_id), "last_session_number": self.session_numbers.get(call_id)}
            exists = self.session.execute(select(table.c.last_number, table.c.last_session_number)
                                          .where(table.c.call_id == call_id)).one_or_none()
            if exists is None:
                self.session.execute(table.insert().values(call_id=call_id, **{k: v or 0 for k, v in values.items()}))
            else:
                self.session.execute(table.update().where(table.c.call_id == call_id).values(
                    last_number=max(values["last_number"] or 0, exists.last_number),
                    last_session_number=max(values["last_session_number"] or 0, exists.last_session_number)))
        if self.dialect == "postgresql":
            for name in self._ids:
                self.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"GREATEST((SELECT COALESCE(MAX(id), 1) FROM {name}), "
                    f"(SELECT last_value FROM {_sequence(name)})))"
                ))
        self.session.flush()

    def summary(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def _sequence(table: str) -> str:
    return f"{table}_id_seq"


class _StructureView:
    """A structure row read as ``structure_profile`` reads a ``Structure``."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)


def _siret(seed: int) -> str:
    from stdnum import luhn

    siren8 = f"{seed:08d}"[-8:]
    siren = siren8 + luhn.calc_check_digit(siren8)
    base = siren + "0001"
    return base + luhn.calc_check_digit(base)


def generate(session: Session, spec: DatasetSpec, *, password_hash: str, storage_dir: str | Path | None,
             pools: dict[str, tuple[str, Sequence[int], int]] | None = None) -> tuple[Generator, dict[str, Pool]]:
    """The whole data set of ``spec`` in one go (what ``python -m bench generate`` does)."""
    generator = Generator(session, spec, password_hash=password_hash, storage_dir=storage_dir)
    generator.add_base()
    generator.add_showcase()
    generator.add_dossiers(spec.dossiers - 1)
    made = {name: generator.add_pool(code, ids, per) for name, (code, ids, per) in (pools or {}).items()}
    generator.add_committee()
    generator.finish()
    return generator, made
