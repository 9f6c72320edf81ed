"""Committee pages: attendance when the session is held and until it closes, the fiche
rendered when a dossier is put on the agenda, and a closed session that refuses every
change with a French message."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from grants.models import CommitteeSession, Decision, Dossier, FicheRender, Role, SessionStatus, User
from grants.operations import committee as ops
from tests.operations.test_committee import instructed, officer_of, session_with  # noqa: F401  (fixtures)
from tests.pdftools import pdf_lines


@pytest.fixture
def two_members(app, db, users, make_user, instructed, session_with):  # noqa: F811
    """A planned session with two invited members: the users' committee account, and Zoé."""
    session_id = session_with(instructed.call, [instructed()], held=False)
    zoe = make_user(Role.committee, full_name="Zoé Membre")
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        session.members.append(db.session.get(User, zoe.id))
        db.session.commit()
    return session_id, users["committee"], zoe


def test_officer_records_attendance_when_held_corrects_it_and_the_minutes_list_it(
        client, login_as, users, db, two_members, store):
    session_id, member, zoe = two_members
    login_as(users["officer"])
    url = f"/comite/seances/{session_id}"
    page = client.get(url).get_data(as_text=True)
    # Before the session is held: every invited member checked.
    assert page.count('name="present" type="checkbox"') == 2
    assert page.count("checked") >= 2 and "Marquer la séance comme tenue" in page

    response = client.post(f"{url}/tenue", data={"present": [str(member.id)],
                                                 "other_attendees": "Mme X, DDETS du Nord"}, csrf_from=url,
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Séance tenue" in page
    assert f"<strong>Présents :</strong> {member.full_name}" in page
    assert "<strong>Excusés :</strong> Zoé Membre" in page
    assert "<strong>Autres participants :</strong> Mme X, DDETS du Nord" in page

    # Corrected while held: Zoé came after all, a second outside attendee.
    response = client.post(f"{url}/presences", data={
        "present": [str(member.id), str(zoe.id)],
        "other_attendees": "Mme X, DDETS du Nord\r\nM. Y, conseil régional"}, csrf_from=url, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Présences enregistrées." in page and "<strong>Excusés :</strong> aucun" in page
    assert "Mme X, DDETS du Nord ; M. Y, conseil régional" in page

    item = db.session.get(CommitteeSession, session_id).items[0]
    client.post(f"{url}/decisions/{item.id}", data={"decision": "deferred"}, csrf_from=url)
    assert client.post(f"{url}/cloture", csrf_from=url).status_code == 302
    lines = pdf_lines(client.get(f"{url}/proces-verbal.pdf").data)
    assert f"Présents {member.full_name} ; Zoé Membre" in lines
    assert "Excusés aucun" in lines and "Autres participants Mme X, DDETS du Nord" in lines
    assert "M. Y, conseil régional" in lines
    page = client.get(url).get_data(as_text=True)
    assert "Enregistrer les présences" not in page and "Présences figées à la clôture" in page


def test_a_member_sees_the_attendance_but_no_form(client, login_as, users, db, two_members):
    session_id, member, _zoe = two_members
    with client.application.test_request_context():
        ops.mark_held(db.session.get(CommitteeSession, session_id), officer_of(db, users))
        db.session.commit()
    login_as(member)
    page = client.get(f"/comite/seances/{session_id}").get_data(as_text=True)
    assert "<strong>Présents :</strong>" in page and "Enregistrer les présences" not in page
    assert client.post(f"/comite/seances/{session_id}/presences", data={"present": []},
                       csrf_from=f"/comite/seances/{session_id}").status_code == 404


def test_attendance_of_someone_not_invited_is_refused(client, login_as, users, db, two_members, make_user):
    session_id, _member, _zoe = two_members
    outsider = make_user(Role.committee)
    login_as(users["officer"])
    url = f"/comite/seances/{session_id}"
    response = client.post(f"{url}/tenue", data={"present": [str(outsider.id)]}, csrf_from=url)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Le formulaire contient 1 erreur" in page and "fr-error-text" in page
    assert db.session.get(CommitteeSession, session_id).status is SessionStatus.planned


def test_putting_a_dossier_on_the_agenda_renders_its_fiche(client, login_as, users, db, instructed, session_with):  # noqa: F811
    session_id = session_with(instructed.call, [], held=False)
    dossier = instructed()
    login_as(users["officer"])
    url = f"/comite/seances/{session_id}"
    response = client.post(f"{url}/ordre-du-jour", data={"dossier_id": str(dossier.id)}, csrf_from=url)
    assert response.status_code == 302
    render = db.session.scalar(select(FicheRender).where(FicheRender.dossier_id == dossier.id))
    assert render is not None and render.pages >= 1


# A closed session refuses every change ----------------------------------------------------------


@pytest.fixture
def closed(app, db, users, instructed, session_with, store):  # noqa: F811
    session_id = session_with(instructed.call, [instructed(), instructed(users["other_applicant"])])
    spare = instructed()
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        officer = officer_of(db, users)
        ops.record_decision(session.items[0], Decision.selected, officer, amount=Decimal("1000.00"))
        ops.record_decision(session.items[1], Decision.deferred, officer)
        ops.close_session(session, officer, store=store)
        db.session.commit()
    return session_id, spare


def state(db, session_id: int) -> tuple:
    db.session.remove()
    session = db.session.get(CommitteeSession, session_id)
    return (session.status, session.version, [m.id for m in session.attendees], session.other_attendees,
            [(i.id, i.dossier_id, i.position, i.decision, i.amount_granted) for i in session.items])


@pytest.mark.parametrize("action", ["decision", "add", "remove", "move", "held", "attendance"])
def test_closed_session_refuses_with_a_french_message(client, login_as, users, db, closed, action):
    session_id, spare = closed
    url = f"/comite/seances/{session_id}"
    session = db.session.get(CommitteeSession, session_id)
    first, second = (item.id for item in session.items)
    posts = {
        "decision": (f"{url}/decisions/{second}", {"decision": "selected", "amount": "10,00"}),
        "add": (f"{url}/ordre-du-jour", {"dossier_id": str(spare.id)}),
        "remove": (f"{url}/retraits/{first}", {}),
        "move": (f"{url}/ordre-du-jour/{second}/monter", {}),
        "held": (f"{url}/tenue", {"present": []}),
        "attendance": (f"{url}/presences", {"present": [], "other_attendees": "Mme X"}),
    }
    before = state(db, session_id)
    login_as(users["officer"])
    target, data = posts[action]
    response = client.post(target, data=data, csrf_from=url)
    assert response.status_code == 302 and response.headers["Location"].startswith(url)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "La séance est close : son procès-verbal est figé." in page
    assert state(db, session_id) == before
    assert db.session.get(Dossier, spare.id).state.value == "instructed"
