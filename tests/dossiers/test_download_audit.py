"""Every file of a dossier that DREETS staff download (attachment, preview, message attachment,
receipt, notification letter) leaves an entry on the dossier's audit trail, shown to officers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from grants.models import AuditEntry, Dossier, Message, User
from grants.operations import messages as message_ops
from grants.operations.dossiers import submit_dossier
from tests.conftest import SAMPLE_PDF
from tests.operations.test_committee import instructed, session_with  # noqa: F401  (fixtures)


@pytest.fixture
def submitted(app, db, users, make_dossier, store):  # type: ignore[no-untyped-def]
    """A submitted dossier of ``users["applicant"]``'s structure, with a message carrying a PDF."""
    dossier = make_dossier(users["applicant"])
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        applicant = db.session.get(User, users["applicant"].id)
        submit_dossier(dossier, applicant, store=store, expected_version=dossier.version)
        message_ops.post_message(dossier, applicant, "Voici l'annexe.", ("annexe.pdf", SAMPLE_PDF),
                                 store=store, max_bytes=10 * 1024 * 1024)
        db.session.commit()
    return dossier


def downloads(db, dossier_id: int) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    db.session.remove()
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "dossier.download", AuditEntry.object_type == "Dossier",
                                 AuditEntry.object_id == dossier_id).order_by(AuditEntry.id)
    ))


def urls(db, dossier_id: int) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """kind → (URL, file name as logged)."""
    dossier = db.session.get(Dossier, dossier_id)
    attachment = dossier.attachments[0]
    message = db.session.scalar(select(Message).where(Message.dossier_id == dossier_id))
    base = f"/dossiers/{dossier_id}"
    return {
        "attachment": (f"{base}/pieces/{attachment.id}", attachment.display_name),
        "attachment_preview": (f"{base}/pieces/{attachment.id}/apercu", attachment.display_name),
        "message_attachment": (f"{base}/messages/{message.id}/piece", "annexe.pdf"),
        "receipt": (f"{base}/versions/1/accuse-reception.pdf", f"accuse-reception-{dossier.reference}-v1.pdf"),
    }


@pytest.mark.parametrize("kind", ["attachment", "attachment_preview", "message_attachment", "receipt"])
@pytest.mark.parametrize("who", ["officer", "admin"])
def test_staff_downloads_are_audited(client, db, login_as, users, submitted, kind, who):  # type: ignore[no-untyped-def]
    url, name = urls(db, submitted.id)[kind]
    login_as(users[who])
    response = client.get(url)
    assert response.status_code == 200
    [entry] = downloads(db, submitted.id)
    assert entry.actor_id == users[who].id
    assert (entry.details["kind"], entry.details["file"]) == (kind, name)
    assert entry.details["sha256"]
    assert name in entry.details["label"]
    assert entry.ip == "127.0.0.1"
    assert client.get(url).status_code == 200
    assert len(downloads(db, submitted.id)) == 2, "each download is one entry"


def test_applicants_reading_their_own_files_are_not_audited(client, db, login_as, users, submitted):  # type: ignore[no-untyped-def]
    login_as(users["applicant"])
    for url, _name in urls(db, submitted.id).values():
        assert client.get(url).status_code == 200, url
    assert downloads(db, submitted.id) == []


def test_refused_downloads_write_nothing(client, db, login_as, users, submitted):  # type: ignore[no-untyped-def]
    login_as(users["committee"])
    for url, _name in urls(db, submitted.id).values():
        assert client.get(url).status_code == 404, url
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["officer"])
    assert client.get(f"/dossiers/{submitted.id}/pieces/999999").status_code == 404
    assert client.get(f"/dossiers/{submitted.id}/versions/9/accuse-reception.pdf").status_code == 404
    assert downloads(db, submitted.id) == []


def test_the_notification_letter_download_is_audited(client, db, login_as, users, submitted):  # type: ignore[no-untyped-def]
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    data = {"decision": "inadmissible", "version": "1", "motive": "Situation sociale non régularisée."}
    for criterion in submitted.call.admissibility_criteria:
        data[f"value_{criterion['code']}"] = "fail" if criterion["code"] == "tax_social" else "pass"
        data[f"comment_{criterion['code']}"] = "Attestation périmée" if criterion["code"] == "tax_social" else ""
    assert client.post(f"{base}/recevabilite", data=data, csrf_from=base).status_code == 302
    assert client.get(f"/dossiers/{submitted.id}/notification.pdf").status_code == 200
    [entry] = downloads(db, submitted.id)
    assert entry.details["kind"] == "letter"
    assert entry.details["file"] == f"notification-{submitted.reference}.pdf"


def test_downloads_appear_on_the_officers_audit_trail_with_who_and_when(client, db, login_as, users, submitted):  # type: ignore[no-untyped-def]
    links = urls(db, submitted.id)
    # 14:05 UTC in November is 15:05 in Paris. Logged in at that time too (sessions expire).
    with time_machine.travel(datetime(2026, 11, 20, 14, 5, tzinfo=UTC), tick=False):
        login_as(users["officer"])
        assert client.get(links["attachment"][0]).status_code == 200
        assert client.get(links["receipt"][0]).status_code == 200
        client.post("/compte/deconnexion", csrf_from="/")
    with time_machine.travel(datetime(2026, 11, 21, 8, 30, tzinfo=UTC), tick=False):
        login_as(users["admin"])
        assert client.get(links["message_attachment"][0]).status_code == 200
        client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["officer"])

    page = client.get(f"/instruction/dossiers/{submitted.id}").get_data(as_text=True)
    history = page[page.index('id="panel-historique"'):]
    officer, admin = users["officer"].full_name, users["admin"].full_name
    attachment_name, receipt_name = links["attachment"][1], links["receipt"][1]
    assert f"20/11/2026 à 15:05</strong> — {officer} : Pièce téléchargée : « {attachment_name} »" in history
    assert f"20/11/2026 à 15:05</strong> — {officer} : Accusé de réception téléchargé : « {receipt_name} »" in history
    assert f"21/11/2026 à 09:30</strong> — {admin} : Pièce jointe d&#39;un message téléchargée : « annexe.pdf »" \
        in history
    # Newest first, like the rest of the trail.
    assert history.index("« annexe.pdf »") < history.index(f"« {attachment_name} »")


# The committee's documents (issue 14, item 14): fiche, pack and procès-verbal, by staff and by
# the invited committee members alike.


@pytest.fixture
def closed_session(app, db, users, instructed, session_with, store):  # type: ignore[no-untyped-def]  # noqa: F811
    """A closed session of one selected dossier: fiche, pack and procès-verbal all exist."""
    from decimal import Decimal

    from grants.models import CommitteeSession, Decision
    from grants.operations import committee as committee_ops

    dossier = instructed()
    session_id = session_with(instructed.call, [dossier])
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        officer = db.session.get(User, users["officer"].id)
        committee_ops.record_decision(session.items[0], Decision.selected, officer, amount=Decimal("1000.00"))
        committee_ops.close_session(session, officer, store=store)
        db.session.commit()
        return session_id, session.items[0].id, dossier.id


def session_downloads(db, session_id: int) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    db.session.remove()
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "session.download", AuditEntry.object_type == "CommitteeSession",
                                 AuditEntry.object_id == session_id).order_by(AuditEntry.id)
    ))


@pytest.mark.parametrize("who", ["officer", "admin", "committee"])
def test_committee_documents_downloads_are_audited(client, db, login_as, users, closed_session, who):  # type: ignore[no-untyped-def]
    session_id, item_id, dossier_id = closed_session
    login_as(users[who])
    base = f"/comite/seances/{session_id}"
    for path in (f"{base}/fiches/{item_id}.pdf", f"{base}/dossier-du-comite.pdf", f"{base}/proces-verbal.pdf"):
        response = client.get(path)
        assert response.status_code == 200 and response.data.startswith(b"%PDF"), path
    [fiche] = downloads(db, dossier_id)
    assert (fiche.actor_id, fiche.details["kind"]) == (users[who].id, "fiche")
    assert fiche.details["sha256"] and fiche.details["session_id"] == session_id
    pack, minutes = session_downloads(db, session_id)
    assert [pack.details["kind"], minutes.details["kind"]] == ["pack", "minutes"]
    assert {pack.actor_id, minutes.actor_id} == {users[who].id}
    assert pack.details["dossiers"] == [dossier_id] and len(pack.details["sha256"]) == 64
    assert minutes.details["label"].startswith("Procès-verbal téléchargé : « proces-verbal-")


def test_the_officers_fiche_download_is_audited(client, db, login_as, users, closed_session):  # type: ignore[no-untyped-def]
    _, _, dossier_id = closed_session
    login_as(users["officer"])
    assert client.get(f"/instruction/dossiers/{dossier_id}/fiche-synthese.pdf").status_code == 200
    [entry] = downloads(db, dossier_id)
    assert entry.details["kind"] == "fiche"
    page = client.get(f"/instruction/dossiers/{dossier_id}").get_data(as_text=True)
    assert "Fiche de synthèse téléchargée" in page[page.index('id="panel-historique"'):]
