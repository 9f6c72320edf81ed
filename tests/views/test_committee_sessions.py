"""Committee pages of issue 15: a session edited and deleted while planned, convened by e-mail
(through a real SMTP server), held only from its date, with a confirmation before closing;
the agenda shows each dossier's opinion; the applicant then sees the plan the decision rests on
and the grant per strand, dated by the session."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from grants.models import AuditEntry, CommitteeSession, Dossier, SessionStatus
from tests.operations.test_committee import instructed, session_with  # noqa: F401  (fixtures)
from tests.pdftools import pdf_lines, pdf_words

NBSP, NNBSP = "\u00a0", "\u202f"


def switch(client, login_as, user):  # type: ignore[no-untyped-def]
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(user)


def money(text: str) -> str:
    """``"116 640,00 €"`` as the pages print it (narrow no-break spaces, no-break space before €)."""
    return text.replace(" €", NBSP + "€").replace(" ", NNBSP)


def test_a_planned_session_is_edited_then_deleted_with_their_audit(client, login_as, users, db, instructed,  # noqa: F811
                                                                    session_with, make_user):
    from grants.models import Role

    session_id = session_with(instructed.call, [], held=False)
    zoe = make_user(Role.committee, full_name="Zoé Membre")
    login_as(users["officer"])
    url = f"/comite/seances/{session_id}"
    form = client.get(f"{url}/modifier").get_data(as_text=True)
    assert "Modifier la séance n° 1" in form and 'value="Préfecture, Lille"' in form
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form)[1]

    # Bad input: the message next to the field, the rest kept.
    bad = client.post(f"{url}/modifier", data={"meets_at": "2027-02-30T10:00", "place": "Hôtel de région, Lille",
                                               "chair_name": "Mme la SGAR", "chair_quality": "par délégation",
                                               "members": [str(zoe.id)], "version": version})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "Le formulaire contient 1 erreur" in page and 'value="Hôtel de région, Lille"' in page

    changed = client.post(f"{url}/modifier", data={
        "meets_at": "2027-02-03T14:30", "place": "Hôtel de région, Lille", "chair_name": "Mme la SGAR",
        "chair_quality": "par délégation du Préfet", "members": [str(zoe.id)], "version": version})
    assert changed.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Séance n° 1 modifiée." in page and "Hôtel de région, Lille" in page and "Zoé Membre" in page
    assert "séance n° 1 du 03/02/2027 à 14:30" in page
    # Someone else's edit in between: nothing written, what was typed kept.
    stale = client.post(f"{url}/modifier", data={
        "meets_at": "2027-02-04T14:30", "place": "Ailleurs", "chair_name": "X", "chair_quality": "Y",
        "members": [str(zoe.id)], "version": version})
    assert stale.status_code == 409 and 'value="Ailleurs"' in stale.get_data(as_text=True)

    # Empty: deletable, after a confirmation dialog (the button names it).
    assert 'data-confirm="confirm-delete"' in page and "son numéro ne sera pas réattribué" in page
    deleted = client.post(f"{url}/suppression", csrf_from=url)
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith(f"/appels/{instructed.call.id}/seances")
    db.session.remove()
    assert db.session.get(CommitteeSession, session_id) is None
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "CommitteeSession", AuditEntry.object_id == session_id)).all()
    assert actions == ["committee.create", "committee.update", "committee.delete"]


def test_a_session_with_dossiers_or_held_is_neither_deleted_nor_edited(client, login_as, users, db, instructed,  # noqa: F811
                                                                         session_with):
    planned_id = session_with(instructed.call, [instructed()], held=False)
    held_id = session_with(instructed.call, [instructed()])
    login_as(users["officer"])
    response = client.post(f"/comite/seances/{planned_id}/suppression", csrf_from=f"/comite/seances/{planned_id}",
                           follow_redirects=True)
    assert "ordre du jour est vide peut être supprimée" in response.get_data(as_text=True)
    assert client.get(f"/comite/seances/{held_id}/modifier").status_code == 403
    page = client.get(f"/comite/seances/{held_id}").get_data(as_text=True)
    assert "Modifier la séance" not in page and "Supprimer la séance" not in page
    switch(client, login_as, users["committee"])
    assert client.get(f"/comite/seances/{planned_id}/modifier").status_code == 404  # staff pages hide


def test_the_convocation_is_e_mailed_to_each_member_with_the_agenda_and_the_pack_link(
        app, client, login_as, users, db, instructed, session_with, smtp_server):  # noqa: F811
    dossier = instructed()
    session_id = session_with(instructed.call, [dossier], held=False)
    login_as(users["officer"])
    url = f"/comite/seances/{session_id}"
    assert "La convocation n'a pas encore été envoyée." in client.get(url).get_data(as_text=True)
    response = client.post(f"{url}/convocation", csrf_from=url, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"Convocation envoyée à 1 membre : {users['committee'].full_name}." in page
    assert "Renvoyer la convocation" in page and "Convocation envoyée le " in page
    [message] = smtp_server.messages
    assert message["To"] == users["committee"].email
    assert "Convocation : comité de sélection du " in message["Subject"] and "séance n° 1" in message["Subject"]
    body = message.get_content()
    session = db.session.get(CommitteeSession, session_id)
    local = session.meets_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert f"Date : {local:%d/%m/%Y} à {local:%H:%M} (heure de Paris)" in body
    assert "Lieu : Préfecture, Lille" in body
    assert f"1. {dossier.reference} — " in body
    assert "FSE+ retenu à l'instruction : " + money("214 560,00 €") + " ; avis du service instructeur : favorable" in body
    # Links from GRANTS_BASE_URL, never from the request.
    assert f"http://localhost/comite/seances/{session_id}/dossier-du-comite.pdf" in body
    assert f"http://localhost/comite/seances/{session_id}" in body

    # A change since the convocation is pointed out; sending again is recorded again.
    session.place = "Hôtel de région, Lille"
    db.session.commit()
    assert "renvoyez la convocation" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/convocation", csrf_from=url)
    assert len(smtp_server.messages) == 2
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "committee.convocation")).all()


def test_a_session_is_held_from_its_date_and_without_members_only_when_confirmed(
        client, login_as, users, db, instructed, session_with):  # noqa: F811
    future_id = session_with(instructed.call, [instructed()], held=False,
                             meets_at=datetime.now(UTC) + timedelta(days=10))
    login_as(users["officer"])
    url = f"/comite/seances/{future_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Marquer la séance comme tenue" not in page and "elle pourra être marquée tenue" in page
    response = client.post(f"{url}/tenue", data={"present": []}, csrf_from=url, follow_redirects=True)
    assert "ne peut être marquée tenue qu&#39;à partir de cette date" in response.get_data(as_text=True)
    assert db.session.get(CommitteeSession, future_id).status is SessionStatus.planned

    lonely_id = session_with(instructed.call, [instructed()], held=False)
    db.session.get(CommitteeSession, lonely_id).members = []
    db.session.commit()
    url = f"/comite/seances/{lonely_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Aucun membre du comité n'est invité" in page
    refused = client.post(f"{url}/tenue", data={"present": [], "other_attendees": "M. X"}, csrf_from=url)
    assert refused.status_code == 422
    assert "Le formulaire contient 1 erreur" in refused.get_data(as_text=True)
    assert 'value="y"' in refused.get_data(as_text=True)  # the confirmation box, next to its message
    confirmed = client.post(f"{url}/tenue", data={"present": [], "other_attendees": "M. X", "without_members": "y"},
                            csrf_from=url)
    assert confirmed.status_code == 302
    assert db.session.get(CommitteeSession, lonely_id).status is SessionStatus.held


def test_agenda_shows_opinions_and_closing_asks_confirmation_naming_the_letters(
        client, login_as, users, db, instructed, session_with):  # noqa: F811
    session_id = session_with(instructed.call, [instructed(), instructed(users["other_applicant"]), instructed()])
    login_as(users["committee"])
    url = f"/comite/seances/{session_id}"
    assert client.get(url).get_data(as_text=True).count("Avis du service instructeur : <span") == 3
    switch(client, login_as, users["officer"])
    items = [item.id for item in db.session.get(CommitteeSession, session_id).items]
    for item, data in zip(items, ({"decision": "selected"}, {"decision": "rejected", "motive": "Hors QPV."},
                                  {"decision": "deferred"}), strict=True):
        assert client.post(f"{url}/decisions/{item}", data=data, csrf_from=url).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert 'data-confirm="confirm-close"' in page
    dialog = page[page.index('id="confirm-close"'):]
    assert "2 lettres de notification sont émises et envoyées par courriel aux porteurs" in dialog
    assert "(1 programmé, 1 rejeté) ; 1 dossier ajourné n'en reçoit pas" in dialog


def test_the_applicant_sees_the_retained_plan_and_the_grant_per_strand_dated_by_the_session(
        app, client, login_as, users, db, instructed, session_with, store, smtp_server):  # noqa: F811
    """Issue 15: « Aide FSE+ attribuée : 120 000,00 € » above a plan showing « FSE+ retenu
    131 200,00 € » (the submitted plan), and « décision du 04/12/2026 » for a session of the 15th."""
    dossier = instructed()
    met = datetime.now(UTC) - timedelta(days=3)
    session_id = session_with(instructed.call, [dossier], meets_at=met)
    login_as(users["applicant"])
    before = client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)
    assert "Plan de financement retenu à l&#39;instruction" in before  # instructed: the retained plan
    assert "FSE+ attribué par le comité" not in before  # nothing notified yet
    switch(client, login_as, users["officer"])
    url = f"/comite/seances/{session_id}"
    item = db.session.get(CommitteeSession, session_id).items[0].id
    client.post(f"{url}/decisions/{item}", csrf_from=url, data={
        "decision": "selected", "amount_reperage": "70 000,00", "amount_sortie_emploi": "50 000,00"})
    assert client.post(f"{url}/cloture", csrf_from=url).status_code == 302

    switch(client, login_as, users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)
    local_date = met.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y")
    callout = page[page.index('id="decision"'):page.index("Télécharger la lettre")]
    assert f"Aide FSE+ attribuée : <strong>{money('120 000,00 €')}</strong>" in callout
    assert f"dont <strong>{money('70 000,00 €')}</strong> pour le volet repérage" in callout
    assert f"réuni le {local_date}" in callout
    plan = page[page.index('id="plan-de-financement"'):]
    assert "FSE+ retenu à l&#39;instruction (maximum)" in plan
    granted = re.search(r"FSE\+ attribué par le comité</th>\s*<td[^>]*>([^<]+)</td>\s*<td[^>]*>([^<]+)</td>"
                        r"\s*<td[^>]*>([^<]+)</td>", plan)
    assert granted.groups() == (money("70 000,00 €"), money("50 000,00 €"), money("120 000,00 €"))
    # The plan shown is the retained one, whose FSE+ the grant never exceeds, strand by strand.
    assert money("116 640,00 €") in plan and money("97 920,00 €") in plan

    # The letter: dated at the closing, the committee's date, the rate that results per strand.
    letter = client.get(f"/dossiers/{dossier.id}/notification.pdf")
    lines = pdf_lines(letter.data)
    words = pdf_words(letter.data)
    assert f"réuni le {met.astimezone(__import__('zoneinfo').ZoneInfo('Europe/Paris')).day} " in words
    assert any(re.fullmatch(r"Repérage 194 400,00 € 70 000,00 € 36,0 ?%", line) for line in lines), lines
    assert any(re.fullmatch(r"Total 357 600,00 € 120 000,00 € 33,6 ?%", line) for line in lines), lines
    # The e-mail tells the same story.
    [mail] = [m for m in smtp_server.messages if "décision du comité" in m["Subject"]]
    assert "réuni le " in mail.get_body(("plain",)).get_content()
    assert db.session.get(Dossier, dossier.id).state.value == "selected"
    assert Decimal("120000.00") == db.session.get(CommitteeSession, session_id).items[0].amount_granted
