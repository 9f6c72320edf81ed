"""E-mails of the officer's work: assignment, reopening, and none for the instruction.

Read from a real SMTP server (aiosmtpd on loopback); a mail that cannot be sent never
undoes the operation."""

from __future__ import annotations

import pytest

from grants.models import Dossier, DossierState, Role, Structure

from .queue_factories import submitted_dossier  # noqa: F401
from .test_review import checklist_data, instruction_data, make_admissible, version_in


def body(message) -> str:  # noqa: ANN001
    return message.get_body(("plain",)).get_content()


def assign(client, dossier, assignee):  # noqa: ANN001
    return client.post(f"/instruction/dossiers/{dossier.id}/attribution", data={"assignee": str(assignee.id)},
                       csrf_from=f"/instruction/appels/{dossier.call_id}/dossiers")


@pytest.fixture
def dossier(submitted_dossier):  # noqa: F811
    return submitted_dossier()


def test_assigning_a_colleague_tells_them(client, login_as, users, db, dossier, smtp_server):
    login_as(users["admin"])
    response = assign(client, dossier, users["officer"])
    assert response.status_code == 302
    [mail] = smtp_server.messages
    assert mail["To"] == users["officer"].email
    assert mail["Subject"] == f"[Parcours QPV] Dossier attribué : {dossier.reference}"
    text = body(mail)
    assert f"« {users['admin'].full_name} » vous a attribué le dossier {dossier.reference}" in text
    assert f"http://localhost/instruction/dossiers/{dossier.id}" in text
    assert "état « Déposé »" in text
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "prévenu·e par courriel" in page


def test_taking_a_dossier_or_unassigning_sends_nothing(client, login_as, users, db, dossier, smtp_server):
    login_as(users["officer"])
    assert assign(client, dossier, users["officer"]).status_code == 302
    assert db.session.get(Dossier, dossier.id).assigned_to_id == users["officer"].id
    response = client.post(f"/instruction/dossiers/{dossier.id}/attribution", data={"assignee": ""},
                           csrf_from=f"/instruction/appels/{dossier.call_id}/dossiers")
    assert response.status_code == 302
    assert smtp_server.messages == []


@pytest.fixture
def inadmissible(client, login_as, users, db, dossier, make_user, smtp_server):
    """The dossier declared irrecevable; its structure has a second user; mailbox emptied."""
    colleague = make_user(Role.applicant, structure=db.session.get(Structure, users["applicant"].structure_id))
    login_as(users["officer"])
    base = f"/instruction/dossiers/{dossier.id}"
    data = checklist_data(dossier, value_tax_social="fail", comment_tax_social="Attestation URSSAF périmée")
    response = client.post(f"{base}/recevabilite", data=data | {"decision": "inadmissible", "version": "0",
                                                                "motive": "Situation sociale non régularisée."},
                           csrf_from=base)
    assert response.status_code == 302
    assert db.session.get(Dossier, dossier.id).state is DossierState.inadmissible
    smtp_server.messages.clear()
    return colleague


def test_reopening_tells_the_structure_with_the_motive(client, users, db, dossier, inadmissible, smtp_server):
    base = f"/instruction/dossiers/{dossier.id}"
    response = client.post(f"{base}/reouvrir", data={"motive": "Attestation URSSAF reçue par courrier le 12/04."},
                           csrf_from=base)
    assert response.status_code == 302
    assert db.session.get(Dossier, dossier.id).state is DossierState.submitted
    [mail] = smtp_server.messages
    assert set(mail["To"].split(", ")) == {users["applicant"].email, inadmissible.email}
    assert mail["Subject"] == f"[Parcours QPV] Irrecevabilité rouverte : dossier {dossier.reference}"
    text = body(mail)
    assert "Attestation URSSAF reçue par courrier le 12/04." in text
    assert "de nouveau à l'examen de sa recevabilité" in text
    assert f"http://localhost/porteur/dossiers/{dossier.id}" in text
    assert "le porteur est prévenu par courriel" in client.get(base).get_data(as_text=True)


def test_recording_the_instruction_sends_no_mail(client, login_as, users, db, dossier, smtp_server):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{dossier.id}"
    make_admissible(client, dossier, base)
    smtp_server.messages.clear()
    page = client.get(f"{base}/instruction").get_data(as_text=True)
    assert client.post(f"{base}/instruction", data=instruction_data(version_in(page), final="0")).status_code == 302
    page = client.get(f"{base}/instruction").get_data(as_text=True)
    assert client.post(f"{base}/instruction", data=instruction_data(version_in(page), final="1")).status_code == 302
    assert db.session.get(Dossier, dossier.id).state is DossierState.instructed
    # The opinion is internal until the committee: nobody is written to.
    assert smtp_server.messages == []


@pytest.fixture
def broken_smtp(app):
    """MAIL_SERVER set to a port where nothing listens: every send fails."""
    from tests.conftest import free_port

    previous = (app.config["MAIL_SERVER"], app.config["MAIL_PORT"])
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    yield
    app.config.update(MAIL_SERVER=previous[0], MAIL_PORT=previous[1])


def test_a_failed_mail_never_undoes_the_operation(client, login_as, users, db, dossier, inadmissible, broken_smtp,
                                                  caplog):
    base = f"/instruction/dossiers/{dossier.id}"
    response = client.post(f"{base}/reouvrir", data={"motive": "Attestation reçue."}, csrf_from=base)
    assert response.status_code == 302
    assert db.session.get(Dossier, dossier.id).state is DossierState.submitted
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["admin"])
    assert assign(client, db.session.get(Dossier, dossier.id), users["officer"]).status_code == 302
    assert db.session.get(Dossier, dossier.id).assigned_to_id == users["officer"].id
    assert "not sent" in caplog.text
