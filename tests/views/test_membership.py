"""Joining an existing structure: a pending member sees nothing of it until a member of the
structure, or an admin, approves (a SIRET is public, a structure's dossiers are not)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.models import AuditEntry, Dossier, Role, Structure, User
from grants.models.users import MembershipState
from tests.conftest import PASSWORD, register_through_email
from tests.views.test_applicant import submit

REGISTRATION = {
    "full_name": "Paul Inconnu",
    "email": "paul@exemple.fr",
    "structure_name": "Nom tapé au hasard",
    "structure_kind": "association",
    "password": "un-mot-de-passe-long",
    "confirm": "un-mot-de-passe-long",
}


@pytest.fixture
def structure_of(db):  # type: ignore[no-untyped-def]
    def get(user: User) -> Structure:
        return db.session.get(Structure, user.structure_id)

    return get


@pytest.fixture
def pending(make_user, users, structure_of):  # type: ignore[no-untyped-def]
    """A person who registered with the SIRET of users["applicant"]'s structure."""
    return make_user(Role.applicant, structure=structure_of(users["applicant"]), membership=MembershipState.pending,
                     full_name="Paul Inconnu")


def register_with_siret(client, siret: str, mailbox):  # type: ignore[no-untyped-def]
    return register_through_email(client, REGISTRATION | {"siret": siret}, mailbox)


# Registration ------------------------------------------------------------------------------


def test_registering_with_an_existing_siret_asks_to_join_and_tells_the_members(
    app, client, db, users, make_user, structure_of, smtp_server
):
    member = users["applicant"]
    colleague = make_user(Role.applicant, structure=structure_of(member))
    structure = structure_of(member)
    response = register_with_siret(client, structure.siret, smtp_server)
    assert response.status_code == 302
    assert response.headers["Location"] == "/compte/rattachement-en-attente"
    paul = db.session.scalar(select(User).where(User.email == "paul@exemple.fr"))
    assert paul.membership is MembershipState.pending and paul.structure_id == structure.id
    assert db.session.get(Structure, structure.id).name == structure.name  # the typed name is ignored
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.register",
                                                       AuditEntry.object_id == paul.id))
    assert entry.to_state == "pending" and entry.details["joins_existing_structure"] is True

    # The members (not the requester) are told, with the way to answer.
    [mail] = smtp_server.messages
    assert set(mail["To"].split(", ")) == {member.email, colleague.email}
    body = mail.get_content()
    assert "« Paul Inconnu » (paul@exemple.fr)" in body and structure.name in body
    assert "http://localhost/porteur/structure#demandes-rattachement" in body

    # Logged in, the requester sees the waiting page instead of the structure's space.
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Votre demande de rattachement est en attente" in page
    assert structure.siret in page and "Dossiers de la structure" not in page


def test_first_person_of_a_new_structure_is_its_member_at_once(client, db, smtp_server):
    response = register_with_siret(client, "90010000900019", smtp_server)
    assert response.headers["Location"] == "/"
    paul = db.session.scalar(select(User).where(User.email == "paul@exemple.fr"))
    assert paul.membership is MembershipState.active
    assert smtp_server.messages == []
    assert client.get("/compte/rattachement-en-attente").headers["Location"] == "/"


def test_a_request_to_a_structure_without_active_member_goes_to_the_admins(client, db, users, make_structure,
                                                                          smtp_server):
    orphan = make_structure()
    register_with_siret(client, orphan.siret, smtp_server)
    [mail] = smtp_server.messages
    assert mail["To"] == users["admin"].email
    assert "http://localhost/admin/comptes" in mail.get_content()


# What a pending member can reach -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/porteur/structure", "/porteur/appels/{call}"])
def test_pending_member_is_shown_the_waiting_page(client, login_as, users, pending, make_dossier, path):
    dossier = make_dossier(users["applicant"], sections=("project",), attachments=False)
    login_as(pending)
    response = client.get(path.format(call=dossier.call_id))
    assert response.status_code == 302 and response.headers["Location"] == "/compte/rattachement-en-attente"
    page = client.get("/compte/rattachement-en-attente").get_data(as_text=True)
    assert "Aller vers les jeunes" not in page  # nothing of the structure's dossiers


def test_pending_member_cannot_start_a_dossier_for_the_structure(client, db, login_as, pending, make_call):
    call = make_call()
    login_as(pending)
    response = client.post(f"/porteur/appels/{call.id}/dossiers", csrf_from="/compte/mot-de-passe")
    assert response.status_code == 302 and response.headers["Location"] == "/compte/rattachement-en-attente"
    assert db.session.scalars(select(Dossier).where(Dossier.call_id == call.id)).all() == []


@pytest.fixture
def submitted(client, login_as, users, make_dossier):  # type: ignore[no-untyped-def]
    dossier = make_dossier(users["applicant"])
    login_as(users["applicant"])
    assert submit(client, dossier.id).status_code == 302
    client.post("/compte/deconnexion", csrf_from="/")
    return dossier


DOSSIER_ROUTES = [
    ("GET", "/porteur/dossiers/{id}"),
    ("GET", "/porteur/dossiers/{id}/sections/project"),
    ("GET", "/porteur/dossiers/{id}/pieces"),
    ("POST", "/porteur/dossiers/{id}/pieces"),
    ("POST", "/porteur/dossiers/{id}/pieces/{att}/retirer"),
    ("GET", "/porteur/dossiers/{id}/deposer"),
    ("POST", "/porteur/dossiers/{id}/deposer"),
    ("GET", "/porteur/dossiers/{id}/retirer"),
    ("POST", "/porteur/dossiers/{id}/retirer"),
    ("POST", "/porteur/dossiers/{id}/complements"),
    ("GET", "/dossiers/{id}/pieces/{att}"),
    ("GET", "/dossiers/{id}/pieces/{att}/apercu"),
    ("GET", "/dossiers/{id}/versions/1/accuse-reception.pdf"),
    ("GET", "/dossiers/{id}/notification.pdf"),
    ("GET", "/dossiers/{id}/messages"),
]


@pytest.mark.parametrize("state", ["draft", "submitted"])
@pytest.mark.parametrize(("method", "route"), DOSSIER_ROUTES)
def test_pending_member_gets_404_on_the_structure_dossiers_and_files(
    client, login_as, users, pending, make_dossier, request, method, route, state
):
    dossier = request.getfixturevalue("submitted") if state == "submitted" else make_dossier(users["applicant"])
    url = route.format(id=dossier.id, att=dossier.current_attachments[0].id)
    login_as(pending)
    response = client.get(url) if method == "GET" else client.post(url, data={}, csrf_from="/compte/mot-de-passe")
    assert response.status_code == 404, (url, response.status_code)


def test_every_predicate_treats_a_pending_member_as_a_non_member(db, users, pending, make_dossier, structure_of):
    dossier = make_dossier(users["applicant"])
    dossier = db.session.get(Dossier, dossier.id)
    pending = db.session.get(User, pending.id)
    member = db.session.get(User, users["applicant"].id)
    predicates = ["is_member", "can_view", "can_edit", "can_submit", "can_withdraw", "can_message",
                  "can_answer_complements"]
    assert [getattr(dossier, p)(pending) for p in predicates] == [False] * len(predicates)
    assert dossier.can_edit_section(pending, "project") is False
    assert dossier.can_edit_attachment_type(pending, "statuts") is False
    assert [getattr(dossier, p)(member) for p in ("is_member", "can_view", "can_edit", "can_submit")] == [True] * 4
    structure = structure_of(member)
    assert structure.can_edit(member) and not structure.can_edit(pending)
    assert [u.id for u in structure.users] == [member.id]  # e-mails about dossiers go to members only


def test_pending_member_receives_no_e_mail_about_the_structure_dossiers(
    client, login_as, users, pending, make_dossier, smtp_server
):
    dossier = make_dossier(users["applicant"])
    login_as(users["applicant"])
    assert submit(client, dossier.id).status_code == 302
    [mail] = smtp_server.messages
    assert mail["To"] == users["applicant"].email


# Decisions by a member -------------------------------------------------------------------------


def test_a_member_approves_from_the_structure_profile(client, app, db, login_as, users, pending, make_dossier,
                                                      smtp_server):
    dossier = make_dossier(users["applicant"], sections=("project",), attachments=False)
    login_as(users["applicant"])
    page = client.get("/porteur/structure").get_data(as_text=True)
    assert "Demandes de rattachement" in page and "Paul Inconnu" in page and pending.email in page
    response = client.post(f"/porteur/structure/demandes/{pending.id}", data={"approve": "Accepter"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/porteur/structure#demandes-rattachement"
    assert "Paul Inconnu est maintenant membre" in client.get("/porteur/structure").get_data(as_text=True)
    db.session.remove()
    assert db.session.get(User, pending.id).membership is MembershipState.active
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.membership_approve"))
    assert (entry.actor_id, entry.object_id, entry.from_state, entry.to_state) == (
        users["applicant"].id, pending.id, "pending", "active")
    [mail] = smtp_server.messages
    assert mail["To"] == pending.email and "acceptée" in mail["Subject"]
    # The new member now shares the structure's dossiers.
    other = app.test_client()
    other.post("/compte/connexion", data={"email": pending.email, "password": PASSWORD})
    assert "Aller vers les jeunes des quartiers" in other.get("/").get_data(as_text=True)
    assert other.get(f"/porteur/dossiers/{dossier.id}").status_code == 200


def test_a_member_refuses_and_the_account_is_closed(client, app, db, login_as, users, pending, smtp_server):
    requester = app.test_client()
    requester.post("/compte/connexion", data={"email": pending.email, "password": PASSWORD})
    assert requester.get("/compte/rattachement-en-attente").status_code == 200
    login_as(users["applicant"])
    response = client.post(f"/porteur/structure/demandes/{pending.id}", data={"refuse": "Refuser"})
    assert response.status_code == 302
    db.session.remove()
    refused = db.session.get(User, pending.id)
    assert refused.membership is MembershipState.refused and not refused.is_active
    assert db.session.scalar(select(AuditEntry.to_state).where(AuditEntry.action == "user.membership_refuse")) == "refused"
    [mail] = smtp_server.messages
    assert mail["To"] == pending.email and "refusée" in mail["Subject"]
    # Their session is over, and they cannot log in again.
    assert requester.get("/compte/rattachement-en-attente").status_code == 302
    again = requester.post("/compte/connexion", data={"email": pending.email, "password": PASSWORD})
    assert again.status_code == 200 and "incorrect" in again.get_data(as_text=True)
    page = client.get("/porteur/structure").get_data(as_text=True)
    assert "refusée ; son compte est fermé" in page and "Aucune demande en attente" in page


def test_a_decided_request_cannot_be_decided_again(client, db, login_as, users, pending):
    login_as(users["applicant"])
    client.post(f"/porteur/structure/demandes/{pending.id}", data={"approve": "Accepter"})
    response = client.post(f"/porteur/structure/demandes/{pending.id}", data={"refuse": "Refuser"})
    assert response.status_code == 404
    db.session.remove()
    assert db.session.get(User, pending.id).membership is MembershipState.active


@pytest.mark.parametrize(("who", "expected"), [("other_applicant", 404), ("officer", 403), ("admin", 403),
                                               ("committee", 404), ("pending_colleague", 302)])
def test_only_members_of_the_structure_decide_its_requests(client, db, login_as, users, pending, make_user,
                                                           structure_of, who, expected):
    if who == "pending_colleague":
        colleague = make_user(Role.applicant, structure=structure_of(users["applicant"]),
                              membership=MembershipState.pending)
        login_as(colleague)
    else:
        login_as(users[who])
    response = client.post(f"/porteur/structure/demandes/{pending.id}", data={"approve": "Accepter"},
                           csrf_from="/compte/mot-de-passe")
    assert response.status_code == expected
    db.session.remove()
    assert db.session.get(User, pending.id).membership is MembershipState.pending


def test_a_decision_without_a_button_is_refused(client, login_as, users, pending):
    login_as(users["applicant"])
    assert client.post(f"/porteur/structure/demandes/{pending.id}", data={}).status_code == 400


# Decisions by an admin ----------------------------------------------------------------------------


def test_an_admin_approves_from_the_accounts_page(client, db, login_admin, users, pending, smtp_server):
    login_admin()
    page = client.get("/admin/comptes").get_data(as_text=True)
    assert "Demandes de rattachement en attente" in page and "Paul Inconnu" in page
    assert f"/admin/comptes/{pending.id}/rattachement" in page
    form = client.get(f"/admin/comptes/{pending.id}/rattachement").get_data(as_text=True)
    assert users["applicant"].email in form  # the current members, to judge the request
    response = client.post(f"/admin/comptes/{pending.id}/rattachement", data={"approve": "Accepter"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/comptes"
    db.session.remove()
    assert db.session.get(User, pending.id).membership is MembershipState.active
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.membership_approve"))
    assert entry.actor_id == users["admin"].id
    assert [m["To"] for m in smtp_server.messages] == [pending.email]
    assert "Demandes de rattachement en attente" not in client.get("/admin/comptes").get_data(as_text=True)


def test_an_admin_refuses_after_typing_the_password_again(client, db, login_as, confirm_password, users, pending):
    login_as(users["admin"])
    url = f"/admin/comptes/{pending.id}/rattachement"
    first = client.get(url)
    assert first.status_code == 302 and "/compte/confirmation" in first.headers["Location"]
    confirm_password()
    assert client.post(url, data={"refuse": "Refuser"}).status_code == 302
    db.session.remove()
    refused = db.session.get(User, pending.id)
    assert refused.membership is MembershipState.refused and not refused.is_active
    assert client.get(url).headers["Location"] == "/admin/comptes"  # already decided
