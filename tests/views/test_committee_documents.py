"""Committee documents on the web: who downloads what, letters sent at closing, and a
committee member who finds nothing but their sessions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.models import CommitteeSession, Decision, Role
from grants.operations import committee as ops
from tests.operations.test_committee import instructed, officer_of, session_with  # noqa: F401  (fixtures)
from tests.pdftools import pdf_words


@pytest.fixture
def closed_session(app, db, users, instructed, session_with, store):  # noqa: F811
    """A closed session: the applicant's dossier selected, the other applicant's rejected."""
    selected, rejected = instructed(), instructed(users["other_applicant"])
    session_id = session_with(instructed.call, [selected, rejected])
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        officer = officer_of(db, users)
        ops.record_decision(session.items[0], Decision.selected, officer, amount=Decimal("98765.43"))
        ops.record_decision(session.items[1], Decision.rejected, officer, motive="Public QPV insuffisant.")
        ops.close_session(session, officer, store=store)
        db.session.commit()
    return session_id, selected, rejected


def logout(client) -> None:  # type: ignore[no-untyped-def]
    client.post("/compte/deconnexion", csrf_from="/")


@pytest.mark.parametrize(("who", "expected"), [("committee", 200), ("officer", 200), ("admin", 200),
                                               ("outsider", 404), ("applicant", 403)])
def test_session_documents_access(client, login_as, users, make_user, db, closed_session, who, expected):
    session_id, _selected, _rejected = closed_session
    login_as(make_user(Role.committee) if who == "outsider" else users[who])
    session = db.session.get(CommitteeSession, session_id)
    urls = [f"/comite/seances/{session_id}/dossier-du-comite.pdf", f"/comite/seances/{session_id}/proces-verbal.pdf"]
    urls += [f"/comite/seances/{session_id}/fiches/{item.id}.pdf" for item in session.items]
    for url in urls:
        response = client.get(url)
        assert response.status_code == expected, url
        if expected == 200:
            assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
            assert response.headers["Content-Disposition"].startswith("attachment;")


def test_member_sees_the_document_links_and_reads_the_minutes(client, login_as, users, closed_session):
    session_id, selected, rejected = closed_session
    login_as(users["committee"])
    page = client.get(f"/comite/seances/{session_id}").get_data(as_text=True)
    assert f"/comite/seances/{session_id}/dossier-du-comite.pdf" in page
    assert f"/comite/seances/{session_id}/proces-verbal.pdf" in page
    minutes = pdf_words(client.get(f"/comite/seances/{session_id}/proces-verbal.pdf").data)
    assert selected.reference in minutes and rejected.reference in minutes
    assert "Motif : Public QPV insuffisant." in minutes


def test_minutes_do_not_exist_before_closing(client, login_as, users, instructed, session_with):  # noqa: F811
    session_id = session_with(instructed.call, [instructed()])
    login_as(users["committee"])
    assert client.get(f"/comite/seances/{session_id}/proces-verbal.pdf").status_code == 404
    assert "Le procès-verbal est établi à la clôture" in client.get(f"/comite/seances/{session_id}").get_data(as_text=True)


def test_closing_on_the_web_mails_each_letter(client, login_as, users, db, instructed, session_with, smtp_server):  # noqa: F811
    selected, deferred = instructed(), instructed(users["other_applicant"])
    session_id = session_with(instructed.call, [selected, deferred])
    login_as(users["officer"])
    url = f"/comite/seances/{session_id}"
    items = [item.id for item in db.session.get(CommitteeSession, session_id).items]
    client.post(f"{url}/decisions/{items[0]}", data={"decision": "selected", "amount": "1 000,00"}, csrf_from=url)
    client.post(f"{url}/decisions/{items[1]}", data={"decision": "deferred"}, csrf_from=url)
    page = client.post(f"{url}/cloture", csrf_from=url, follow_redirects=True).get_data(as_text=True)
    assert "1 lettre(s) de notification" in page
    [mail] = [m for m in smtp_server.messages if "décision du comité" in m["Subject"]]
    assert mail["To"] == users["applicant"].email
    [letter] = list(mail.iter_attachments())
    words = pdf_words(letter.get_content())
    assert "notification de sélection" in words and selected.reference in words


def test_applicant_sees_the_decision_and_downloads_the_letter(client, login_as, users, closed_session):
    _session_id, selected, rejected = closed_session
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{selected.id}").get_data(as_text=True)
    assert "Opération retenue par le comité de sélection" in page
    assert "98\u202f765,43\u00a0€" in page
    letter = client.get(f"/dossiers/{selected.id}/notification.pdf")
    assert letter.status_code == 200
    assert "notification de sélection" in pdf_words(letter.data)
    # not the other structure's letter
    assert client.get(f"/dossiers/{rejected.id}/notification.pdf").status_code == 404
    logout(client)
    login_as(users["other_applicant"])
    page = client.get(f"/porteur/dossiers/{rejected.id}").get_data(as_text=True)
    assert "Opération non retenue" in page and "Public QPV insuffisant." in page
    assert "notification de rejet" in pdf_words(client.get(f"/dossiers/{rejected.id}/notification.pdf").data)


# A committee member finds nothing outside their sessions -----------------------------------

MEMBER_ENDPOINTS = {
    "static", "main.index", "main.health", "main.accessibility", "main.legal",
    "committee.show_session", "committee.download_pack", "committee.download_fiche", "committee.download_minutes",
}


def test_member_gets_404_on_every_other_page(app, client, login_as, users, db, closed_session):
    session_id, selected, _rejected = closed_session
    session = db.session.get(CommitteeSession, session_id)
    ids = {
        "dossier_id": selected.id, "call_id": session.call_id, "session_id": session_id,
        "item_id": session.items[0].id, "attachment_id": 1, "number": 1, "user_id": users["officer"].id,
        "message_id": 1, "list_id": 1, "structure_id": selected.structure_id,
    }
    login_as(users["committee"])
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in MEMBER_ENDPOINTS or rule.endpoint.startswith("auth."):
            continue
        values = {arg: ids.get(arg, "x") for arg in rule.arguments}
        if "key" in values:
            values["key"] = "project"
        if "direction" in values:
            values["direction"] = "monter"
        url = _build(app, rule.endpoint, values)
        if "GET" in rule.methods:
            response = client.get(url)
        else:
            response = client.post(url, csrf_from="/")
        assert response.status_code == 404, f"{rule.endpoint} {url}: {response.status_code}"
        checked += 1
    assert checked >= 40  # every officer, admin, applicant and dossier page


def _build(app, endpoint: str, values: dict) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def test_member_gets_404_on_sessions_and_dossiers_elsewhere(client, login_as, make_user, closed_session):
    session_id, selected, _rejected = closed_session
    login_as(make_user(Role.committee))
    for url in (f"/comite/seances/{session_id}", f"/comite/seances/{session_id}/dossier-du-comite.pdf",
                f"/dossiers/{selected.id}/notification.pdf", f"/instruction/dossiers/{selected.id}/fiche-synthese.pdf"):
        assert client.get(url).status_code == 404, url
