"""Officers see only what was submitted: the project title an applicant saved while answering
complements, and has not sent, is nowhere on the officers' pages, exports and e-mails, nor on
the committee's; it shows on the applicant's own pages; once sent, it is what officers see."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import MetaData, text

from grants.extensions import make_engine
from grants.migrate import downgrade, upgrade
from grants.models import Dossier, DossierState, User
from grants.operations import assignment, messages
from grants.operations import review as review_ops
from grants.operations.dossiers import save_section
from tests.conftest import COMPLETE_CONTENT

SUBMITTED = COMPLETE_CONTENT["project"]["title"]
UNSENT = "Intitulé enregistré mais pas encore envoyé"


@pytest.fixture
def answering(app, db, users, make_call, make_submitted, store):
    """A submitted dossier whose applicant, asked for complements on the project, has saved a
    new title and not sent it; assigned to the officer, with a message of the structure."""
    call = make_call()
    dossier = make_submitted(users["applicant"], call=call)
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        officer, applicant = db.session.get(User, users["officer"].id), db.session.get(User, users["applicant"].id)
        review_ops.request_complements(dossier, sections=["project"], attachment_types=[], message="Précisez.",
                                       due_date=date.today() + timedelta(days=14), actor=officer)
        project = copy.deepcopy(COMPLETE_CONTENT["project"]) | {"title": UNSENT}
        save_section(dossier, "project", project, applicant, dossier.version)
        messages.post_message(dossier, applicant, "Nous préparons la réponse.", None, store=store, max_bytes=1024)
        db.session.commit()
    dossier = db.session.get(Dossier, dossier.id)
    assert dossier.title == UNSENT and dossier.submitted_title == SUBMITTED
    return call, dossier


def test_officer_pages_and_exports_show_the_submitted_title(client, login_as, users, db, answering):
    call, dossier = answering
    login_as(users["officer"])
    pages = {
        "dossier page": client.get(f"/instruction/dossiers/{dossier.id}"),
        "queue": client.get(f"/instruction/appels/{call.id}/dossiers"),
        "messages": client.get(f"/dossiers/{dossier.id}/messages"),
        "CSV": client.get(f"/instruction/appels/{call.id}/dossiers.csv"),
    }
    for name, response in pages.items():
        body = response.get_data().decode("utf-8-sig")
        assert response.status_code == 200, name
        assert UNSENT not in body, name
        assert SUBMITTED in body, name
    heading = pages["dossier page"].get_data(as_text=True).split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert heading == f"{dossier.reference} — {SUBMITTED}"
    [row] = list(csv.DictReader(io.StringIO(pages["CSV"].get_data().decode("utf-8-sig")), delimiter=";"))
    assert row["Intitulé du projet"] == SUBMITTED
    # The queue searches the submitted title, not the unsent one.
    found = client.get(f"/instruction/appels/{call.id}/dossiers?q=quartiers").get_data(as_text=True)
    assert dossier.reference in found
    assert dossier.reference not in client.get(
        f"/instruction/appels/{call.id}/dossiers?q=pas+encore+envoy").get_data(as_text=True)


def test_the_applicant_sees_their_own_saved_title(client, login_as, users, answering):
    _, dossier = answering
    login_as(users["applicant"])
    assert UNSENT in client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)
    assert UNSENT in client.get(f"/dossiers/{dossier.id}/messages").get_data(as_text=True)


def test_e_mails_to_officers_carry_the_submitted_title(app, db, users, make_user, answering, smtp_server):
    from grants.models import Role
    from grants.notifications import notify_assignment

    _, dossier = answering
    colleague = make_user(Role.officer)
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        officer = db.session.get(User, users["officer"].id)
        assignment.assign_dossier(dossier, db.session.get(User, colleague.id), officer)
        db.session.commit()
        notify_assignment(dossier, db.session.get(User, colleague.id), officer)
        message = messages.post_message(dossier, db.session.get(User, users["applicant"].id), "Une question.",
                                        None, store=None, max_bytes=1024)  # type: ignore[arg-type]
        db.session.commit()
        messages.notify_message_posted(message)
    assert len(smtp_server.messages) == 2
    for mail in smtp_server.messages:
        body = mail.get_body(("plain",)).get_content()
        assert SUBMITTED in body and UNSENT not in body, mail["Subject"]


def test_once_sent_the_new_title_is_what_officers_see(app, client, login_as, users, db, answering, store):
    call, dossier = answering
    with app.test_request_context():
        review_ops.answer_complements(db.session.get(Dossier, dossier.id), db.session.get(User, users["applicant"].id),
                                      store=store)
        db.session.commit()
    answered = db.session.get(Dossier, dossier.id)
    assert answered.state is DossierState.submitted and answered.submitted_title == UNSENT
    login_as(users["officer"])
    assert UNSENT in client.get(f"/instruction/dossiers/{dossier.id}").get_data(as_text=True)
    assert UNSENT in client.get(f"/instruction/appels/{call.id}/dossiers").get_data(as_text=True)


def test_the_committee_page_shows_the_submitted_title(app, client, login_as, users, db, make_call, make_submitted,
                                                      store):
    """An instructed dossier on an agenda: the committee's page reads the submitted title."""
    from grants.operations import committee as committee_ops

    call = make_call()
    dossier = make_submitted(users["applicant"], call=call)
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        officer = db.session.get(User, users["officer"].id)
        review = review_ops.get_review(dossier)
        review_ops.save_checklist(review, {c["code"]: {"value": "pass", "comment": ""}
                                           for c in dossier.call.admissibility_criteria}, officer, None)
        from grants.models import AdmissibilityOutcome, Opinion

        review_ops.record_admissibility(review, AdmissibilityOutcome.admissible, "", officer)
        instruction = review_ops.get_instruction(dossier)
        review_ops.record_instruction(instruction, instruction.retained, Opinion.favourable, "Cohérent.", officer,
                                      None, final=True)
        session = committee_ops.create_session(
            dossier.call, meets_at=datetime.now(UTC) + timedelta(days=7), place="Lille", chair_name="M. le Préfet",
            chair_quality="", members=[db.session.get(User, users["committee"].id)], actor=officer)
        committee_ops.add_to_agenda(session, dossier, officer, store=store)
        db.session.commit()
        session_id = session.id
    # A title that differs from the submitted one (as an edit in place would leave it).
    db.session.get(Dossier, dossier.id).title = UNSENT
    db.session.commit()
    login_as(users["committee"])
    page = client.get(f"/comite/seances/{session_id}").get_data(as_text=True)
    assert SUBMITTED in page and UNSENT not in page


# The migration ------------------------------------------------------------------------------

BEFORE, AFTER = "4a79c3b569c0", "05742f8229ea"


def _insert(connection, table, **values) -> None:  # type: ignore[no-untyped-def]
    """A row of ``table`` with ``values``, and a plain value in every other required column."""
    def filler(column):  # type: ignore[no-untyped-def]
        kind = type(column.type).__name__.upper()
        if "JSON" in kind:
            return []
        if "BOOL" in kind:
            return True
        if "INT" in kind:
            return 1
        if "NUMERIC" in kind or "DECIMAL" in kind:
            return Decimal("0.40")
        if "DATE" in kind or "TIME" in kind:
            return datetime(2023, 1, 1, tzinfo=UTC)
        return "x"

    row = {c.name: filler(c) for c in table.columns if not c.nullable and c.server_default is None and not c.primary_key}
    connection.execute(table.insert().values(**(row | values)))


def _snapshot(title: str, qpv: list[str]) -> dict:
    return {"content": {"project": {"title": title}, "territories": {"qpv_codes": qpv},
                        "public": {"reperage": {"nb_jeunes": 150, "nb_jeunes_qpv": 120}}},
            "finance": {"input": {"strands": {"reperage": {"other_cofinancing": "1500.00"},
                                              "sortie_emploi": {"other_cofinancing": "0.00"}}}}}


def test_migration_copies_the_latest_version_title_and_summary(fresh_databases):
    url = fresh_databases.new("submitted_title")
    upgrade(url, BEFORE)
    engine = make_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    with engine.begin() as connection:
        _insert(connection, t["calls"], id=1, code="AAP-MIG", closes_at=datetime(2023, 3, 1, tzinfo=UTC))
        _insert(connection, t["structures"], id=1, siret="90010000900019", kind="mission_locale")
        _insert(connection, t["dossiers"], id=1, call_id=1, structure_id=1, state="draft", title="Brouillon")
        _insert(connection, t["dossiers"], id=2, call_id=1, structure_id=1, state="complements_requested",
                title="Titre modifié, pas envoyé", reference="AAP-MIG-2023-0001",
                submitted_at=datetime(2023, 2, 1, tzinfo=UTC))
        for number, title in ((1, "Premier titre"), (2, "Titre de la réponse")):
            _insert(connection, t["dossier_versions"], dossier_id=2, number=number,
                    snapshot=_snapshot(title, ["QN05901M"]), created_at=datetime(2023, 2, number, tzinfo=UTC))
    upgrade(url, AFTER)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, submitted_title, submitted_summary FROM dossiers ORDER BY id")).all()
        assert rows[0][1:] == (None, None)
        assert rows[1][1] == "Titre de la réponse"
        summary = rows[1][2] if isinstance(rows[1][2], dict) else json.loads(rows[1][2])
        assert summary == {"qpv_codes": ["QN05901M"],
                           "public": {"reperage": {"nb_jeunes": 150, "nb_jeunes_qpv": 120},
                                      "sortie_emploi": {"nb_jeunes": None, "nb_jeunes_qpv": None}},
                           "other_cofinancing": {"reperage": "1500.00", "sortie_emploi": "0.00"}}
        downgrade(url, BEFORE)
        with engine.connect() as connection:
            columns = {row[1] for row in connection.execute(text("PRAGMA table_info(dossiers)"))} \
                if engine.dialect.name == "sqlite" else set(connection.execute(text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'dossiers'")).scalars())
            assert "submitted_title" not in columns and "title" in columns
            assert connection.scalar(text("SELECT count(*) FROM dossier_versions")) == 2
    finally:
        engine.dispose()
