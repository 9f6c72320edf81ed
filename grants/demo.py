"""Demo data: the reference call, three fictitious structures, one account per role."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from .extensions import db
from .geography import commune
from .models import (
    DEFAULT_ADMISSIBILITY_CRITERIA,
    DEFAULT_REQUIRED_ATTACHMENTS,
    Call,
    QpvList,
    Role,
    Structure,
    StructureKind,
    StructureVerification,
    User,
    utcnow,
)
from .operations.accounts import create_user
from .operations.calls import create_call
from .operations.qpv import import_qpv_list
from . import qpv_reference
from .qpv_reference import QpvFileError, default_list_name, parse_qpv_csv
from .formatting import PARIS


class DemoDataError(RuntimeError):
    pass


REFERENCE_PROGRAMME = (
    "Appel à projets FSE+ « Renforcement des parcours d'accompagnement des jeunes vivant dans "
    "les quartiers prioritaires de la politique de la ville (QPV) ».\n\n"
    "Il répond à la priorité 2 du programme national FSE+ 2021-2027 (jeunes), objectif "
    "spécifique A (repérage précoce), en complément du contrat d'engagement jeune (CEJ). "
    "Deux volets sont financés : le repérage (« aller vers » les jeunes inconnus du service "
    "public de l'emploi) et la sortie vers l'emploi et sa sécurisation.\n\n"
    "Enveloppe : 4 000 000 € de FSE+. Taux d'intervention : 60 %. Chaque structure répond "
    "seule (pas de consortium). Le FSE+ ne finance pas l'investissement."
)

# Fictitious structures (SIREN 9001…/9002…/9003… with valid check digits), one per département.
DEMO_STRUCTURES = [
    {
        "name": "Mission locale fictive du Valenciennois (démo)",
        "siret": "90010000900019",
        "kind": StructureKind.mission_locale,
        "legal_form": "Association loi 1901",
        "address": "1 rue de l'Exemple",
        "postal_code": "59300",
        "commune_insee": "59606",
        "legal_rep_name": "Claire Exemple",
        "legal_rep_title": "Présidente",
        "contact_name": "Karim Démo",
        "contact_email": "contact@ml-valenciennois.demo",
    },
    {
        "name": "Mission locale fictive du Grand Amiénois (démo)",
        "siret": "90020000700012",
        "kind": StructureKind.mission_locale,
        "legal_form": "Association loi 1901",
        "address": "2 place de l'Essai",
        "postal_code": "80000",
        "commune_insee": "80021",
        "legal_rep_name": "Paul Fictif",
        "legal_rep_title": "Président",
        "contact_name": "Inès Test",
        "contact_email": "contact@ml-amienois.demo",
    },
    {
        "name": "PLIE fictif du Beauvaisis (démo)",
        "siret": "90030000500015",
        "kind": StructureKind.plie,
        "legal_form": "Groupement d'intérêt public",
        "address": "3 avenue du Prototype",
        "postal_code": "60000",
        "commune_insee": "60057",
        "legal_rep_name": "Sophie Maquette",
        "legal_rep_title": "Directrice",
        "contact_name": "Luc Essai",
        "contact_email": "contact@plie-beauvaisis.demo",
    },
]

DEMO_ACCOUNTS = [
    {"email": "admin@dreets-hdf.demo", "password": "Demo-Admin-2026!", "role": Role.admin,
     "name": "Alice Administratrice", "role_title": "Administrateur"},
    {"email": "instructeur@dreets-hdf.demo", "password": "Demo-Instructeur-2026!", "role": Role.officer,
     "name": "Olivier Instructeur", "role_title": "Gestionnaire FSE+ (DREETS)"},
    {"email": "comite@prefecture-hdf.demo", "password": "Demo-Comite-2026!", "role": Role.committee,
     "name": "Camille Comité", "role_title": "Membre du comité"},
    {"email": "porteur@ml-valenciennois.demo", "password": "Demo-Porteur-2026!", "role": Role.applicant,
     "name": "Karim Démo", "role_title": "Porteur (Mission locale, Nord)", "siret": "90010000900019"},
    {"email": "porteur@ml-amienois.demo", "password": "Demo-Porteur2-2026!", "role": Role.applicant,
     "name": "Inès Test", "role_title": "Porteur (Mission locale, Somme)", "siret": "90020000700012"},
]

# Only the money and rates the reference call gives; the CEJ forfait is an example value
# (the slide leaves it blank): docs/finance.md.
REFERENCE_FINANCE = {
    "envelope": Decimal("4000000.00"),
    "fse_rate": Decimal("0.60"),
    "cej_forfait_per_youth": Decimal("1600.00"),
    "share_reperage": Decimal("0.40"),
    "share_sortie_emploi": Decimal("0.40"),
    "flat_rate_other_costs": Decimal("0.40"),
}


def _paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def _qpv_source() -> tuple[bytes, str, date]:
    """The demo's QPV list: ``GRANTS_QPV_FILE`` when set, else the list shipped in the
    package. Content, source and version date. Never a download (``grants qpv import
    --official`` is the admin's explicit action)."""
    path = qpv_reference.reference_qpv_file(current_app.config.get("GRANTS_QPV_FILE"))
    return path.read_bytes(), path.name, qpv_reference.PACKAGED_VERSION_DATE


def _load_qpv_list() -> QpvList:
    existing = db.session.scalar(select(QpvList).order_by(QpvList.id))
    if existing is not None:
        return existing
    try:
        raw, source, version = _qpv_source()
        parsed = parse_qpv_csv(raw, qpv_reference.HDF_DEPARTEMENTS)
    except QpvFileError as exc:
        raise DemoDataError(str(exc)) from exc
    return import_qpv_list(parsed, name=default_list_name(parsed), version_date=version, source=source)


def database_is_empty() -> bool:
    """No account at all: the only database ``make run`` fills with demo data."""
    return db.session.scalar(select(User.id).limit(1)) is None


def demo_accounts_present() -> bool:
    return db.session.scalar(select(User.id).where(User.email == DEMO_ACCOUNTS[0]["email"])) is not None


def load_demo_data() -> bool:
    """Create what is missing; returns False when everything was already there."""
    if demo_accounts_present():
        return False
    qpv_list = _load_qpv_list()

    structures: dict[str, Structure] = {}
    for spec in DEMO_STRUCTURES:
        structure = db.session.scalar(select(Structure).where(Structure.siret == spec["siret"]))
        if structure is None:
            place = commune(spec["commune_insee"])
            structure = Structure(
                **spec,
                commune_name=place.name if place else "",
                departement=place.departement if place else "",
                # The demo's structures are known to the DREETS: verified (by nobody in particular).
                verification=StructureVerification.verified, verified_at=utcnow(),
            )
            db.session.add(structure)
        structures[spec["siret"]] = structure
    db.session.flush()

    for account in DEMO_ACCOUNTS:
        create_user(
            email=account["email"],
            full_name=account["name"],
            role=account["role"],
            password=account["password"],
            structure=structures.get(account.get("siret", "")),
        )

    common = {
        **REFERENCE_FINANCE,
        "required_attachments": DEFAULT_REQUIRED_ATTACHMENTS,
        "admissibility_criteria": DEFAULT_ADMISSIBILITY_CRITERIA,
        "qpv_list_id": qpv_list.id,
    }
    if db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2023")) is None:
        # The reference call of docs/user-guide.md, with its real (past) calendar.
        create_call(
            {
                **common,
                "code": "AAP-QPV-2023",
                "title": "Renforcement des parcours d'accompagnement des jeunes vivant dans les QPV",
                "programme": REFERENCE_PROGRAMME,
                "opens_at": _paris(2022, 11, 25, 0, 0),
                "closes_at": _paris(2023, 3, 26, 23, 59),
            },
            None,
        )
    if db.session.scalar(select(Call).where(Call.code == "AAP-QPV-DEMO")) is None:
        # Same rules, open now, so the demo can be walked through end to end.
        today = utcnow().astimezone(PARIS).date()
        closing = today + timedelta(days=120)
        create_call(
            {
                **common,
                "code": "AAP-QPV-DEMO",
                "title": "Renforcement des parcours des jeunes des QPV — édition de démonstration",
                "programme": REFERENCE_PROGRAMME,
                "opens_at": _paris(today.year, today.month, today.day) - timedelta(days=30),
                "closes_at": _paris(closing.year, closing.month, closing.day, 23, 59),
            },
            None,
        )
    db.session.flush()
    _demo_dossiers()
    _demo_committee()
    return True


# A minimal, valid one-page PDF standing for each demo attachment.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n"
)


def _demo_content(title: str, qpv_codes: list[str], youth: tuple[int, int], salaries: tuple[str, str],
                  period: tuple[str, str] = ("2027-01-01", "2028-12-31")) -> dict:
    return {
        "identification": {"contact_name": "Responsable du projet (démo)", "contact_email": "projet@exemple.demo",
                           "contact_phone": "", "consortium": "no"},
        "project": {"title": title, "start_date": period[0], "end_date": period[1],
                    "summary": "Maraudes et permanences en pied d'immeuble pour aller vers les jeunes "
                               "inconnus du service public de l'emploi, puis accompagnement renforcé vers "
                               "l'emploi avec un chargé de relations entreprises."},
        "territories": {"qpv_codes": qpv_codes},
        "public": {"reperage": {"nb_jeunes": youth[0] + 30, "nb_jeunes_qpv": youth[0]},
                   "sortie_emploi": {"nb_jeunes": youth[1] + 20, "nb_jeunes_qpv": youth[1]},
                   "age_min": 16, "age_max": 25, "cej_qpv_share_current": "18.5", "cej_qpv_share_target": "30"},
        "resources": {
            "reperage": {"posts": [{"label": "Chargé de mission repérage", "category": "staff",
                                    "annual_cost": salaries[0], "fte": "1", "months": 24}],
                         "cofinancing": [], "requested": None},
            "sortie_emploi": {"posts": [{"label": "Chargé relations entreprises", "category": "staff",
                                         "annual_cost": salaries[1], "fte": "1", "months": 24}],
                              "cofinancing": [], "requested": None},
        },
        "indicators": {"identified": 250, "identified_qpv": 200, "cej_entries": 120, "exits_employment": 60,
                       "exits_training": 30, "exits_apprenticeship": 10, "retention_6_months": 40},
        "declaration": {"signatory_name": "Représentant légal (démo)", "signatory_quality": "Président(e)",
                        "sworn": True},
    }


DEMO_DOSSIERS = [
    ("porteur@ml-valenciennois.demo", "Aller vers les jeunes des quartiers du Valenciennois",
     ["QN05930M", "QN05931M"], (120, 80), ("42000.00", "40000.00"), True),
    ("porteur@ml-amienois.demo", "Repérer et accompagner les jeunes d'Étouvie et d'Amiens Nord",
     ["QN08001M", "QN08003M"], (90, 60), ("39500.00", "38000.00"), True),
    ("porteur@ml-valenciennois.demo", "Seconde action (brouillon de démonstration)",
     ["QN05921M"], (40, 20), ("36000.00", "35000.00"), False),
]


def _demo_dossiers() -> None:
    """Dossiers of the open demo call: two submitted (for the officers), one draft."""
    from .operations.dossiers import add_attachment, create_dossier, save_section, submit_dossier
    from .storage import current_store

    call = db.session.scalar(select(Call).where(Call.code == "AAP-QPV-DEMO"))
    store = current_store()
    for email, title, codes, youth, salaries, submit in DEMO_DOSSIERS:
        user = db.session.scalar(select(User).where(User.email == email))
        dossier = create_dossier(call, user.structure, user)
        for key, value in _demo_content(title, codes, youth, salaries).items():
            save_section(dossier, key, value, user, dossier.version)
        for item in call.required_attachments:
            add_attachment(dossier, item["code"], f"{item['label']} (démo).pdf", DEMO_PDF, user,
                           store=store, max_bytes=10 * 1024 * 1024)
        if submit:
            submit_dossier(dossier, user, store=store, expected_version=dossier.version)



# The 2023 reference call, decided: (applicant, project title, QPV, youth, salaries, what happened).
DEMO_2023_DOSSIERS = [
    ("porteur@ml-valenciennois.demo", "Parcours vers l'emploi des jeunes de Valenciennes et d'Anzin",
     ["QN05930M", "QN05931M"], (110, 70), ("41000.00", "39000.00"), "selected"),
    ("porteur@ml-amienois.demo", "Maraudes éducatives à Amiens Nord",
     ["QN08001M"], (60, 30), ("38000.00", "36500.00"), "rejected"),
    ("porteur@ml-valenciennois.demo", "Permanences mobiles dans les quartiers de Denain",
     ["QN05921M"], (70, 40), ("37000.00", "36000.00"), "deferred"),
    ("porteur@ml-amienois.demo", "Accompagnement renforcé à Étouvie",
     ["QN08003M"], (50, 30), ("36000.00", "35000.00"), "inadmissible"),
]


def _demo_committee() -> None:
    """The 2023 reference call, instructed and decided, so that every document exists:
    a closed committee session (selection, rejection, adjournment: pack, minutes with the
    attendance, letters; the fiches rendered as the dossiers were put on the agenda),
    an inadmissibility (letter), and a second session, held, where the adjourned dossier
    waits for its decision."""
    from .models import AdmissibilityOutcome, CommitteeSession, Decision, Opinion
    from .operations import committee as committee_ops
    from .operations import review as review_ops
    from .operations.dossiers import add_attachment, create_dossier, save_section, submit_dossier
    from .storage import current_store

    call = db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2023"))
    if db.session.scalar(select(CommitteeSession).where(CommitteeSession.call_id == call.id)) is not None:
        return
    store = current_store()
    officer = db.session.scalar(select(User).where(User.email == "instructeur@dreets-hdf.demo"))
    member = db.session.scalar(select(User).where(User.email == "comite@prefecture-hdf.demo"))
    outcomes = []
    for number, (email, title, codes, youth, salaries, outcome) in enumerate(DEMO_2023_DOSSIERS):
        user = db.session.scalar(select(User).where(User.email == email))
        filed = _paris(2023, 3, 10 + number, 11, 0)
        dossier = create_dossier(call, user.structure, user, now=filed)
        for key, value in _demo_content(title, codes, youth, salaries, ("2023-09-01", "2025-08-31")).items():
            save_section(dossier, key, value, user, dossier.version)
        for item in call.required_attachments:
            add_attachment(dossier, item["code"], f"{item['label']} (démo).pdf", DEMO_PDF, user,
                           store=store, max_bytes=10 * 1024 * 1024)
        submit_dossier(dossier, user, store=store, expected_version=dossier.version, now=filed)
        checklist = review_ops.get_review(dossier)
        answers = {c["code"]: {"value": "pass", "comment": ""} for c in call.admissibility_criteria}
        if outcome == "inadmissible":
            answers["tax_social"] = {"value": "fail", "comment": "Attestation de régularité sociale absente."}
        review_ops.save_checklist(checklist, answers, officer, None)
        if outcome == "inadmissible":
            review_ops.record_admissibility(
                checklist, AdmissibilityOutcome.inadmissible,
                "L'attestation de régularité fiscale et sociale n'a pas été fournie malgré la demande de "
                "compléments.", officer, store=store, now=_paris(2023, 4, 20, 10, 0))
            continue
        review_ops.record_admissibility(checklist, AdmissibilityOutcome.admissible, "", officer)
        instruction = review_ops.get_instruction(dossier)
        opinion = Opinion.unfavourable if outcome == "rejected" else Opinion.favourable
        review_ops.record_instruction(
            instruction, instruction.retained, opinion,
            "Projet cohérent avec le diagnostic territorial ; coûts de personnel conformes aux grilles."
            if opinion is Opinion.favourable else
            "Part des jeunes résidant en QPV trop faible au regard des objectifs de l'appel.",
            officer, None, final=True)
        outcomes.append((dossier, outcome))

    first = committee_ops.create_session(
        call, meets_at=_paris(2023, 6, 15, 9, 30), place="Préfecture de région, salle du conseil, Lille",
        chair_name="M. le Secrétaire général pour les affaires régionales",
        chair_quality="par délégation du Préfet de la région Hauts-de-France", members=[member], actor=officer,
    )
    items = {committee_ops.add_to_agenda(first, dossier, officer, store=store).id: outcome
             for dossier, outcome in outcomes}
    committee_ops.mark_held(
        first, officer, present=[member], now=_paris(2023, 6, 15, 12, 0),
        other_attendees="Mme Nadia Lefèvre, DDETS du Nord\n"
                        "M. Paul Martin, conseil régional Hauts-de-France (direction de la formation)\n"
                        "Mme Sophie Durand, France Travail, direction régionale",
    )
    for item in list(first.items):
        outcome = items[item.id]
        decided = _paris(2023, 6, 15, 12, 30)  # recorded once the session is marked held
        if outcome == "selected":
            committee_ops.record_decision(item, Decision.selected, officer, now=decided)
        elif outcome == "rejected":
            committee_ops.record_decision(
                item, Decision.rejected, officer, now=decided,
                motive="La part des jeunes résidant en QPV parmi les publics visés est inférieure aux "
                       "objectifs de l'appel à projets.")
        else:
            committee_ops.record_decision(item, Decision.deferred, officer, now=decided)
    committee_ops.close_session(first, officer, store=store, now=_paris(2023, 6, 16, 9, 0))

    second = committee_ops.create_session(
        call, meets_at=_paris(2023, 9, 21, 14, 0), place="Préfecture de région, salle du conseil, Lille",
        chair_name="M. le Secrétaire général pour les affaires régionales",
        chair_quality="par délégation du Préfet de la région Hauts-de-France", members=[member], actor=officer,
    )
    for dossier, outcome in outcomes:
        if outcome == "deferred":
            committee_ops.add_to_agenda(second, dossier, officer, store=store)
    committee_ops.mark_held(second, officer, now=_paris(2023, 9, 21, 17, 0))
    db.session.flush()
