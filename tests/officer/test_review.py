"""Officer work on a dossier: admissibility, complements, instruction, reopening."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from grants.formatting import PARIS
from grants.models import AdmissibilityReview, AuditEntry, Dossier, DossierState, Instruction, Role, User
from grants.working_days import add_working_days
from tests.conftest import PASSWORD
from tests.pdftools import pdf_words

MANUAL = {"signatory", "tax_social", "not_completed"}


@pytest.fixture
def submitted(app, db, users, make_dossier, store):
    from grants.operations.dossiers import submit_dossier

    dossier = make_dossier(users["applicant"])
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        submit_dossier(dossier, db.session.get(type(users["applicant"]), users["applicant"].id),
                       store=store, expected_version=dossier.version)
        db.session.commit()
    return dossier


def checklist_data(dossier, **overrides):
    data = {}
    for criterion in dossier.call.admissibility_criteria:
        data[f"value_{criterion['code']}"] = "pass"
        data[f"comment_{criterion['code']}"] = ""
    return data | overrides


def version_in(page: str) -> str:
    return re.search(r'name="version" value="(\d*)"', page).group(1)


def test_officer_page_prefills_automatic_criteria(client, login_as, users, submitted):
    login_as(users["officer"])
    page = client.get(f"/instruction/dossiers/{submitted.id}").get_data(as_text=True)
    assert submitted.reference in page
    assert "Avis du système : <strong>satisfait</strong>" in page
    assert page.count("Avis du système : <strong>satisfait</strong>") == 8  # the 8 automatic criteria
    assert "Critère apprécié par le gestionnaire." in page
    assert "Aller vers les jeunes des quartiers" in page


def test_declare_admissible_needs_every_criterion_then_notifies(client, login_as, users, db, submitted, smtp_server):
    login_as(users["officer"])
    url = f"/instruction/dossiers/{submitted.id}/recevabilite"
    incomplete = checklist_data(submitted, value_tax_social="") | {"decision": "admissible"}
    response = client.post(url, data=incomplete, csrf_from=f"/instruction/dossiers/{submitted.id}")
    assert response.status_code == 422
    assert "non renseignés : « Régularité fiscale et sociale »" in response.get_data(as_text=True)
    response = client.post(url, data=checklist_data(submitted) | {"decision": "admissible", "version": "1"},
                           csrf_from=f"/instruction/dossiers/{submitted.id}")
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    db.session.remove()
    assert db.session.get(Dossier, submitted.id).state is DossierState.admissible
    [message] = smtp_server.messages
    assert "recevable" in message["Subject"]
    assert message["To"] == users["applicant"].email


def test_overriding_the_system_needs_a_comment(client, login_as, users, db, submitted):
    login_as(users["officer"])
    url = f"/instruction/dossiers/{submitted.id}/recevabilite"
    refused = client.post(url, data=checklist_data(submitted, value_territory="fail") | {"decision": ""},
                          csrf_from=f"/instruction/dossiers/{submitted.id}")
    assert "un commentaire est obligatoire" in refused.get_data(as_text=True)
    accepted = client.post(url, data=checklist_data(submitted, value_territory="fail",
                                                    comment_territory="QPV hors périmètre réel") | {"decision": ""},
                           csrf_from=f"/instruction/dossiers/{submitted.id}")
    assert accepted.status_code == 302


def test_inadmissible_needs_a_motive_and_can_be_reopened(client, login_as, users, db, submitted, smtp_server):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    data = checklist_data(submitted, value_tax_social="fail", comment_tax_social="Attestation URSSAF périmée")
    no_motive = client.post(f"{base}/recevabilite", data=data | {"decision": "inadmissible"}, csrf_from=base)
    assert "motif d&#39;irrecevabilité est obligatoire" in no_motive.get_data(as_text=True)
    done = client.post(f"{base}/recevabilite", data=data | {"decision": "inadmissible", "version": "1",
                                                            "motive": "Situation sociale non régularisée."},
                       csrf_from=base)
    assert done.status_code == 302
    db.session.remove()
    assert db.session.get(Dossier, submitted.id).state is DossierState.inadmissible
    mail = smtp_server.messages[-1]
    assert "Situation sociale non régularisée." in mail.get_body(("plain",)).get_content()
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == f"notification-{submitted.reference}.pdf"
    letter = pdf_words(attached.get_content())
    assert "notification d'irrecevabilité" in letter and "Situation sociale non régularisée." in letter
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{submitted.id}").get_data(as_text=True)
    assert "Dossier déclaré irrecevable" in page and "Situation sociale non régularisée." in page
    download = client.get(f"/dossiers/{submitted.id}/notification.pdf")
    assert download.status_code == 200 and download.data == attached.get_content()
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["officer"])
    refused = client.post(f"{base}/reouvrir", data={"motive": ""}, csrf_from=base)
    assert refused.status_code == 422
    reopened = client.post(f"{base}/reouvrir", data={"motive": "Attestation reçue par courrier."}, csrf_from=base)
    assert reopened.status_code == 302
    db.session.remove()
    assert db.session.get(Dossier, submitted.id).state is DossierState.submitted
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.submitted",
                                                       AuditEntry.from_state == "inadmissible"))
    assert entry.details["motive"] == "Attestation reçue par courrier."


def test_complements_round_trip(client, app, login_as, users, db, submitted, smtp_server):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    page = client.get(base).get_data(as_text=True)
    default_due = add_working_days(datetime.now(PARIS).date(), 10)
    assert f'value="{default_due.isoformat()}"' in page
    response = client.post(f"{base}/complements", data={
        "sections": ["project"], "attachment_types": ["rib"], "message": "Précisez le calendrier ; RIB illisible.",
        "due_date": default_due.isoformat()}, csrf_from=base)
    assert response.status_code == 302
    db.session.remove()
    assert db.session.get(Dossier, submitted.id).state is DossierState.complements_requested
    assert "compléments demandés" in smtp_server.messages[-1]["Subject"]
    second = client.post(f"{base}/complements", data={"sections": ["public"], "message": "x",
                                                      "due_date": default_due.isoformat()}, csrf_from=base)
    assert "Une demande de compléments est déjà en cours" in second.get_data(as_text=True)
    client.post("/compte/deconnexion", csrf_from="/")

    # The applicant may edit only what was requested.
    login_as(users["applicant"])
    mine = f"/porteur/dossiers/{submitted.id}"
    assert "Envoyer les compléments" in client.get(mine).get_data(as_text=True)
    assert client.get(f"{mine}/sections/resources").status_code == 403
    page = client.get(f"{mine}/sections/project").get_data(as_text=True)
    response = client.post(f"{mine}/sections/project", data={
        "version": re.search(r'name="version" value="(\d+)"', page).group(1), "title": "Titre précisé",
        "summary": "Calendrier : maraudes dès janvier.", "start_date": "2027-01-01", "end_date": "2028-12-31"})
    assert response.status_code == 302
    attachments_page = client.get(f"{mine}/pieces").get_data(as_text=True)
    assert 'id="file_rib"' in attachments_page and 'id="file_statuts"' not in attachments_page
    sent = client.post(f"{mine}/complements", csrf_from=mine)
    assert sent.status_code == 302
    db.session.remove()
    stored = db.session.get(Dossier, submitted.id)
    assert stored.state is DossierState.submitted
    assert [v.number for v in stored.versions] == [1, 2]
    assert stored.versions[0].snapshot["content"]["project"]["title"] == "Aller vers les jeunes des quartiers"
    assert stored.versions[1].snapshot["content"]["project"]["title"] == "Titre précisé"
    assert stored.versions[1].receipt_file is not None
    assert "compléments reçus" in smtp_server.messages[-1]["Subject"]
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["officer"])
    page = client.get(base).get_data(as_text=True)
    assert "Modifié depuis la version 1 : Projet et période." in page


def test_overdue_complements_are_flagged(client, login_as, users, db, submitted):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    due = add_working_days(datetime.now(PARIS).date(), 10)
    client.post(f"{base}/complements", data={"sections": ["project"], "message": "x", "due_date": due.isoformat()},
                csrf_from=base)
    with time_machine.travel(datetime.combine(due + timedelta(days=2), datetime.min.time(), tzinfo=UTC)):
        login_as(users["officer"])  # days later: the first session has expired
        page = client.get(base).get_data(as_text=True)
    assert "échéance dépassée" in page


def make_admissible(client, submitted, base):
    return client.post(f"{base}/recevabilite", data=checklist_data(submitted) | {"decision": "admissible"},
                       csrf_from=base)


def instruction_data(version: str, **overrides):
    data = {
        "version": version, "opinion": "favourable", "opinion_text": "Projet solide, partenariats établis.",
        "reperage-nb_jeunes_qpv": "100", "reperage-posts-0-label": "Chargé de mission repérage",
        "reperage-posts-0-category": "staff", "reperage-posts-0-annual_cost": "42 000", "reperage-posts-0-fte": "1",
        "reperage-posts-0-months": "24", "reperage-other_cofinancing": "", "reperage-requested": "",
        "sortie_emploi-nb_jeunes_qpv": "80", "sortie_emploi-posts-0-label": "Chargé relations entreprises",
        "sortie_emploi-posts-0-category": "staff", "sortie_emploi-posts-0-annual_cost": "40 000",
        "sortie_emploi-posts-0-fte": "1", "sortie_emploi-posts-0-months": "24",
        "sortie_emploi-other_cofinancing": "", "sortie_emploi-requested": "",
    }
    return data | overrides


def test_instruction_recomputes_with_retained_values(client, login_as, users, db, submitted):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    make_admissible(client, submitted, base)
    page = client.get(f"{base}/instruction").get_data(as_text=True)
    saved = client.post(f"{base}/instruction", data=instruction_data(version_in(page), final="0"))
    assert saved.status_code == 302
    db.session.remove()
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == submitted.id))
    # socle repérage retained = 1 600 × 40 % × 100 = 64 000,00 (120 requested → 76 800,00)
    assert instruction.finance["result"]["strands"]["reperage"]["socle"] == "64000.00"
    assert instruction.finance["input"]["rules"]["fse_rate"] == "0.60"
    page = client.get(f"{base}/instruction").get_data(as_text=True)
    assert "-12\u202f800,00\u00a0€" in page  # difference on the base socle, shown per figure
    no_text = client.post(f"{base}/instruction", data=instruction_data(version_in(page), final="1", opinion_text=""))
    assert "L&#39;avis doit être motivé" in no_text.get_data(as_text=True)
    page = client.get(f"{base}/instruction").get_data(as_text=True)
    final = client.post(f"{base}/instruction", data=instruction_data(version_in(page), final="1"))
    assert final.status_code == 302
    db.session.remove()
    assert db.session.get(Dossier, submitted.id).state is DossierState.instructed
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == submitted.id))
    assert instruction.fse_retained_total == Decimal(instruction.finance["result"]["totals"]["fse"])


def test_two_officers_saving_the_instruction(client, app, login_as, users, db, submitted, make_user):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    make_admissible(client, submitted, base)
    client.post(f"{base}/instruction", data=instruction_data("", final="0"))
    page = client.get(f"{base}/instruction").get_data(as_text=True)
    stale = version_in(page)
    first = client.post(f"{base}/instruction", data=instruction_data(stale, final="0", opinion="reserved"))
    assert first.status_code == 302
    second = client.post(f"{base}/instruction", data=instruction_data(stale, final="0", opinion_text="Mon texte"))
    assert second.status_code == 409
    assert "Mon texte" in second.get_data(as_text=True)
    retry = client.post(f"{base}/instruction", data=instruction_data(version_in(second.get_data(as_text=True)),
                                                                      final="0", opinion_text="Mon texte"))
    assert retry.status_code == 302


@pytest.mark.parametrize(("who", "expected"), [("applicant", 403), ("committee", 404), ("anonymous", 302),
                                               ("officer", 200), ("admin", 200)])
def test_officer_dossier_page_access(client, login_as, users, submitted, who, expected):
    if who != "anonymous":
        login_as(users[who])
    assert client.get(f"/instruction/dossiers/{submitted.id}").status_code == expected


def test_drafts_are_invisible_to_officers(client, login_as, users, make_dossier):
    draft = make_dossier(users["applicant"], sections=("project",), attachments=False)
    login_as(users["officer"])
    assert client.get(f"/instruction/dossiers/{draft.id}").status_code == 404


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 12, 18), 10, date(2027, 1, 5)),  # Christmas and New Year's Day skipped
        (date(2027, 4, 30), 3, date(2027, 5, 5)),   # weekend
        (date(2027, 5, 7), 1, date(2027, 5, 10)),   # 8 May is a Saturday in 2027
        (date(2027, 7, 13), 1, date(2027, 7, 15)),  # 14 July
    ],
)
def test_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


# Two officers on the same checklist ----------------------------------------------------------


def test_two_officers_saving_the_checklist_at_once(app, client, login_as, users, db, submitted, make_user):
    colleague = make_user(Role.officer)
    base = f"/instruction/dossiers/{submitted.id}"
    login_as(users["officer"])
    mine = version_in(client.get(base).get_data(as_text=True))
    # The colleague opens the same checklist in their own browser, before the first save.
    other = app.test_client()
    assert other.post("/compte/connexion", data={"email": colleague.email, "password": PASSWORD}).status_code == 302
    theirs = version_in(other.get(base).get_data(as_text=True))
    assert mine == theirs
    first = client.post(f"{base}/recevabilite", data=checklist_data(submitted) | {"decision": "", "version": mine,
                        "comment_signatory": "Délégation de signature vérifiée."}, csrf_from=base)
    assert first.status_code == 302
    second = other.post(f"{base}/recevabilite", data=checklist_data(submitted) | {
        "decision": "", "version": theirs, "comment_tax_social": "Attestation URSSAF du 2 mars vue."}, csrf_from=base)
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "a été modifié(e) entre-temps par un·e collègue" in page
    assert "Votre saisie est conservée" in page
    assert 'value="Attestation URSSAF du 2 mars vue."' in page  # their input, kept
    # Nothing of the second save was recorded; the first one stands.
    db.session.remove()
    review = db.session.scalar(select(AdmissibilityReview).where(AdmissibilityReview.dossier_id == submitted.id))
    assert review.answers["signatory"]["comment"] == "Délégation de signature vérifiée."
    assert review.answers["tax_social"]["comment"] == ""
    # The page carries the current version: saving again goes through.
    retry = other.post(f"{base}/recevabilite", data=checklist_data(submitted) | {
        "decision": "", "version": version_in(page), "comment_tax_social": "Attestation URSSAF du 2 mars vue."},
        csrf_from=base)
    assert retry.status_code == 302


def test_two_officers_creating_the_checklist_at_the_same_moment(client, login_as, users, db, submitted, monkeypatch):
    """Both requests found no checklist and create one: the database's unique row per dossier
    refuses the second, which gets the same conflict page (not an error 500)."""
    from grants.operations import review as review_ops

    base = f"/instruction/dossiers/{submitted.id}"
    login_as(users["officer"])
    assert client.post(f"{base}/recevabilite", data=checklist_data(submitted) | {"decision": "", "version": "0"},
                       csrf_from=base).status_code == 302
    page = client.get(base).get_data(as_text=True)

    def as_if_none_existed(dossier):  # noqa: ANN001, ANN202
        review = AdmissibilityReview(dossier=dossier, answers={})
        db.session.add(review)
        return review

    monkeypatch.setattr(review_ops, "get_review", as_if_none_existed)
    response = client.post(f"{base}/recevabilite", data=checklist_data(submitted) | {
        "decision": "", "version": version_in(page), "comment_not_completed": "Opération non commencée."},
        csrf_from=base)
    assert response.status_code == 409
    assert "rechargez la page" in response.get_data(as_text=True)
    assert 'value="Opération non commencée."' in response.get_data(as_text=True)


# A second request for complements, not a third --------------------------------------------------


def request_complements(client, dossier, sections):  # noqa: ANN001
    base = f"/instruction/dossiers/{dossier.id}"
    due = add_working_days(datetime.now(PARIS).date(), 10)
    return client.post(f"{base}/complements", data={"sections": sections, "message": "Merci de préciser.",
                                                    "due_date": due.isoformat()}, csrf_from=base)


def answer(app, db, users, dossier, store):  # noqa: ANN001
    from grants.operations.review import answer_complements

    with app.test_request_context():
        answer_complements(db.session.get(Dossier, dossier.id), db.session.get(User, users["applicant"].id),
                           store=store)
        db.session.commit()


def test_a_second_request_once_the_first_is_answered_then_no_third(app, client, login_as, users, db, submitted,
                                                                   store):
    login_as(users["officer"])
    assert request_complements(client, submitted, ["project"]).status_code == 302
    answer(app, db, users, submitted, store)
    second = request_complements(client, submitted, ["public"])
    assert second.status_code == 302  # allowed once, as in FSE+ practice
    assert db.session.get(Dossier, submitted.id).state is DossierState.complements_requested
    answer(app, db, users, submitted, store)
    page = client.get(f"/instruction/dossiers/{submitted.id}").get_data(as_text=True)
    assert "Deux demandes ont déjà été faites : une troisième n'est pas admise." in page
    third = request_complements(client, submitted, ["indicators"])
    assert third.status_code == 422
    assert "Deux demandes de compléments ont déjà été faites : une troisième n&#39;est pas admise." in (
        third.get_data(as_text=True))
    db.session.remove()
    dossier = db.session.get(Dossier, submitted.id)
    assert dossier.state is DossierState.submitted
    assert len(dossier.complement_requests) == 2 and [v.number for v in dossier.versions] == [1, 2, 3]
