"""Officer work on a dossier: admissibility, complements, instruction, reopening."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from grants.models import AuditEntry, Dossier, DossierState, Instruction
from grants.working_days import add_working_days
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
    assert page.count("Avis du système : <strong>satisfait</strong>") == 7  # the 7 automatic criteria
    assert "Critère apprécié par le gestionnaire." in page
    assert "Aller vers les jeunes des quartiers" in page


def test_declare_admissible_needs_every_criterion_then_notifies(client, login_as, users, db, submitted, smtp_server):
    login_as(users["officer"])
    url = f"/instruction/dossiers/{submitted.id}/recevabilite"
    incomplete = checklist_data(submitted, value_tax_social="") | {"decision": "admissible"}
    response = client.post(url, data=incomplete, csrf_from=f"/instruction/dossiers/{submitted.id}")
    assert response.status_code == 422
    assert "non renseignés : tax_social" in response.get_data(as_text=True)
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
    default_due = add_working_days(datetime.now(UTC).date(), 10)
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
    assert '<option value="rib">' in attachments_page and '<option value="statuts">' not in attachments_page
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
    due = add_working_days(datetime.now(UTC).date(), 10)
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
