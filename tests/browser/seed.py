"""Data of its own for a browser test, made through the operations in the live server's
database (``python -m tests.browser.seed KIND`` with the server's environment; prints JSON).

The demo data is shared by every browser test of the run and some of them move its dossiers
along; a test that needs a dossier in a given state, or an account to deactivate, makes one.

Kinds: ``submitted`` (a new structure's dossier on the open demo call), ``admissible``,
``complements_received`` (answered complements, with a message of the structure),
``officer`` (a new officer account; its password is printed).
"""

from __future__ import annotations

import json
import secrets
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from grants import create_app
from grants.extensions import db
from grants.models import AdmissibilityOutcome, Call, Role, Structure, StructureKind, User, utcnow
from grants.operations import messages, review
from grants.operations.accounts import create_user
from grants.operations.dossiers import add_attachment, create_dossier, save_section, submit_dossier
from grants.operations.structures import verify_structure
from grants.storage import current_store
from tests.conftest import COMPLETE_CONTENT, COMPLETE_STRUCTURE, SAMPLE_PDF, _valid_siret

PASSWORD = "Mot-de-passe-du-test-navigateur"


def _officer() -> User:
    return db.session.scalar(select(User).where(User.email == "instructeur@dreets-hdf.demo"))


def _submitted(title: str) -> tuple[Any, User]:
    call = db.session.scalar(select(Call).where(Call.code == "AAP-QPV-DEMO"))
    number = secrets.randbelow(9_000_000) + 1_000_000
    structure = Structure(name=f"Mission locale du test navigateur {number}", siret=_valid_siret(number),
                          kind=StructureKind.mission_locale, **COMPLETE_STRUCTURE)
    db.session.add(structure)
    db.session.flush()
    verify_structure(structure, _officer())  # as the DREETS would before declaring it recevable
    user = create_user(email=f"porteur-{number}@exemple.fr", full_name=f"Porteur {number}", role=Role.applicant,
                       password=PASSWORD, structure=structure)
    dossier = create_dossier(call, structure, user)
    for key, value in COMPLETE_CONTENT.items():
        save_section(dossier, key, value | ({"title": title} if key == "project" else {}), user, dossier.version)
    for item in call.required_attachments:
        add_attachment(dossier, item["code"], f"{item['code']}.pdf", SAMPLE_PDF, user, store=current_store(),
                       max_bytes=10 * 1024 * 1024)
    submit_dossier(dossier, user, store=current_store(), expected_version=dossier.version)
    return dossier, user


def make(kind: str) -> dict[str, Any]:
    if kind == "officer":
        number = secrets.randbelow(9_000_000) + 1_000_000
        user = create_user(email=f"agent-{number}@dreets.exemple.fr", full_name=f"Agent Navigateur {number}",
                           role=Role.officer, password=PASSWORD)
        db.session.flush()
        return {"id": user.id, "email": user.email, "name": user.full_name, "password": PASSWORD}
    dossier, applicant = _submitted(f"Projet du test navigateur ({kind})")
    officer = _officer()
    if kind == "admissible":
        checklist = review.get_review(dossier)
        review.save_checklist(checklist, {c["code"]: {"value": "pass", "comment": ""}
                                          for c in dossier.call.admissibility_criteria}, officer, None)
        review.record_admissibility(checklist, AdmissibilityOutcome.admissible, "", officer)
    elif kind == "complements_received":
        review.request_complements(dossier, sections=["project"], attachment_types=[], message="Précisez.",
                                   due_date=utcnow().date() + timedelta(days=10), actor=officer)
        review.answer_complements(dossier, applicant, store=current_store())
        messages.post_message(dossier, applicant, "Voici la nouvelle version du projet.", None,
                              store=current_store(), max_bytes=1024)
    elif kind != "submitted":
        raise SystemExit(f"unknown kind {kind}")
    return {"id": dossier.id, "reference": dossier.reference, "title": dossier.submitted_title}


def main() -> None:
    app = create_app()
    with app.test_request_context():
        result = make(sys.argv[1])
        db.session.commit()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
