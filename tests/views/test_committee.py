"""Committee pages: staff compose and decide, invited members consult, nobody else."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from grants.models import CommitteeSession, Dossier, DossierState, SessionStatus
from tests.operations.test_committee import instructed, session_with  # noqa: F401  (fixtures)


def agenda(page: str) -> str:
    """The agenda part of the session page (flash messages also name dossiers)."""
    return page[page.index('id="ordre-du-jour"'):]


def test_officer_composes_holds_decides_and_closes(client, login_as, users, db, instructed):  # noqa: F811
    first, second = instructed(), instructed(users["other_applicant"])
    call = instructed.call
    login_as(users["officer"])
    new = f"/comite/appels/{call.id}/seances/nouvelle"
    page = client.get(new).get_data(as_text=True)
    assert users["committee"].full_name in page
    response = client.post(new, data={
        # Yesterday: within the call's window (issue 14), and a session is held from its date (issue 15).
        "meets_at": (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT10:00"), "place": "Préfecture de région, Lille", "chair_name": "Le Préfet de région",
        "chair_quality": "Préfet de la région Hauts-de-France", "members": [str(users["committee"].id)]})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    session_url = response.headers["Location"]
    session_id = int(session_url.rsplit("/", 1)[1])
    for dossier in (first, second):
        assert client.post(f"{session_url}/ordre-du-jour", data={"dossier_id": str(dossier.id)},
                           csrf_from=session_url).status_code == 302
    page = agenda(client.get(session_url).get_data(as_text=True))
    assert page.index(first.reference) < page.index(second.reference)
    second_item = db.session.get(CommitteeSession, session_id).items[1].id
    client.post(f"{session_url}/ordre-du-jour/{second_item}/monter", csrf_from=session_url)
    page = agenda(client.get(session_url).get_data(as_text=True))
    assert page.index(second.reference) < page.index(first.reference)
    assert client.post(f"{session_url}/tenue", csrf_from=session_url).status_code == 302

    items = {i.dossier_id: i.id for i in db.session.get(CommitteeSession, session_id).items}
    over = client.post(f"{session_url}/decisions/{items[first.id]}",
                       data={"decision": "selected", "amount_reperage": "99 999 999,00", "amount_sortie_emploi": "0"},
                       csrf_from=session_url)
    assert over.status_code == 422  # the message next to the field, what was typed kept
    assert "dépasse le maximum retenu" in over.get_data(as_text=True)
    assert 'value="99 999 999,00"' in over.get_data(as_text=True)
    client.post(f"{session_url}/decisions/{items[first.id]}",
                data={"decision": "selected", "amount_reperage": "100 000,50", "amount_sortie_emploi": "50 000,00"},
                csrf_from=session_url)
    no_motive = client.post(f"{session_url}/decisions/{items[second.id]}", data={"decision": "rejected"},
                            csrf_from=session_url)
    assert no_motive.status_code == 422
    assert "motif du rejet est obligatoire" in no_motive.get_data(as_text=True)
    client.post(f"{session_url}/decisions/{items[second.id]}",
                data={"decision": "rejected", "motive": "Public QPV insuffisant."}, csrf_from=session_url)
    page = client.get(session_url).get_data(as_text=True)
    assert "150\u202f000,50\u00a0€" in page  # programmé in this session
    assert "3\u202f849\u202f999,50\u00a0€" in page  # remaining = 4 000 000,00 − 150 000,50
    assert client.post(f"{session_url}/cloture", csrf_from=session_url).status_code == 302
    db.session.remove()
    session = db.session.get(CommitteeSession, session_id)
    assert session.status is SessionStatus.closed
    assert db.session.get(Dossier, first.id).state is DossierState.selected
    assert session.items[1].amount_granted == Decimal("150000.50")
    assert session.items[1].granted == {"reperage": Decimal("100000.50"), "sortie_emploi": Decimal("50000.00")}


@pytest.mark.parametrize(("who", "expected"), [("committee", 200), ("officer", 200), ("admin", 200),
                                               ("applicant", 403), ("anonymous", 302)])
def test_session_page_access(client, login_as, users, instructed, session_with, who, expected):  # noqa: F811
    session_id = session_with(instructed.call, [instructed()])
    if who != "anonymous":
        login_as(users[who])
    assert client.get(f"/comite/seances/{session_id}").status_code == expected


def test_uninvited_member_sees_nothing(client, login_as, users, make_user, instructed, session_with):  # noqa: F811
    from grants.models import Role

    session_id = session_with(instructed.call, [instructed()])
    outsider = make_user(Role.committee)
    login_as(outsider)
    assert client.get(f"/comite/seances/{session_id}").status_code == 404
    assert "Vous n'êtes invité(e) à aucune séance" in client.get("/").get_data(as_text=True)


def test_invited_member_sees_agenda_read_only(client, login_as, users, instructed, session_with):  # noqa: F811
    dossier = instructed()
    session_id = session_with(instructed.call, [dossier])
    login_as(users["committee"])
    home = client.get("/").get_data(as_text=True)
    assert f"/comite/seances/{session_id}" in home
    page = client.get(f"/comite/seances/{session_id}").get_data(as_text=True)
    assert dossier.reference in page
    assert "Enregistrer la décision" not in page and "Clore la séance" not in page
    assert client.post(f"/comite/seances/{session_id}/cloture", csrf_from="/").status_code == 404
    assert re.search(r"Reste disponible", page)
