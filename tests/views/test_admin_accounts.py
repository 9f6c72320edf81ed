"""Admins edit accounts, change a State account's role, deactivate, reactivate and unlock
accounts (audited, after typing their password again); the platform always keeps an active
admin; a deactivated officer's dossiers go back to nobody."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.models import AuditEntry, Dossier, Role, User, utcnow
from grants.models.users import MembershipState
from grants.operations import assignment
from tests.conftest import PASSWORD


def entries(db, action: str, user: User) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.object_type == "User", AuditEntry.object_id == user.id)))


def test_an_admin_edits_an_account_and_changes_its_role(client, login_admin, users, db):
    officer = users["officer"]
    login_admin()
    page = client.get(f"/admin/comptes/{officer.id}").get_data(as_text=True)
    assert f'value="{officer.email}"' in page and "Gestionnaire FSE+ (DREETS)" in page
    response = client.post(f"/admin/comptes/{officer.id}", data={
        "full_name": "Odile Gestionnaire-Martin", "email": " Odile.Martin@DREETS.gouv.fr ", "role": "admin"})
    assert response.status_code == 302
    stored = db.session.get(User, officer.id)
    assert (stored.full_name, stored.email, stored.role) == (
        "Odile Gestionnaire-Martin", "odile.martin@dreets.gouv.fr", Role.admin)
    [entry] = entries(db, "user.update", officer)
    assert entry.actor_id == users["admin"].id
    assert entry.details["changes"]["role"] == ["officer", "admin"]
    assert entry.details["changes"]["email"] == [officer.email, "odile.martin@dreets.gouv.fr"]


def test_an_address_already_used_is_refused_next_to_the_field(client, login_admin, users, db):
    login_admin()
    officer = users["officer"]
    response = client.post(f"/admin/comptes/{officer.id}", data={
        "full_name": officer.full_name, "email": users["committee"].email, "role": "officer"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#email">Adresse électronique : Un compte existe déjà avec cette adresse e-mail.</a>' in page
    assert db.session.get(User, officer.id).email == officer.email


def test_an_applicant_keeps_their_role(client, login_admin, users, db):
    applicant = users["applicant"]
    login_admin()
    page = client.get(f"/admin/comptes/{applicant.id}").get_data(as_text=True)
    assert 'name="role"' not in page and "son rôle ne change pas" in page
    response = client.post(f"/admin/comptes/{applicant.id}", data={
        "full_name": "Karim Démo", "email": applicant.email, "role": "admin"})
    assert response.status_code == 302
    stored = db.session.get(User, applicant.id)
    assert stored.role is Role.applicant and stored.full_name == "Karim Démo"


def test_the_last_admin_cannot_lock_themselves_out(client, login_admin, users, db, make_user):
    admin = users["admin"]
    login_admin()
    demoted = client.post(f"/admin/comptes/{admin.id}", data={
        "full_name": admin.full_name, "email": admin.email, "role": "officer"})
    assert demoted.status_code == 422
    assert "c&#39;est le seul compte administrateur actif" in demoted.get_data(as_text=True)
    deactivated = client.post(f"/admin/comptes/{admin.id}/etat", data={"action": "deactivate"},
                              csrf_from=f"/admin/comptes/{admin.id}")
    assert deactivated.status_code == 409
    assert "Impossible de désactiver votre propre compte" in deactivated.get_data(as_text=True)
    stored = db.session.get(User, admin.id)
    assert stored.role is Role.admin and stored.is_active
    # With another admin, giving up one's own rights is allowed.
    make_user(Role.admin)
    response = client.post(f"/admin/comptes/{admin.id}", data={
        "full_name": admin.full_name, "email": admin.email, "role": "officer"})
    assert response.status_code == 302
    assert db.session.get(User, admin.id).role is Role.officer


def test_deactivation_ends_the_sessions_and_releases_the_dossiers(app, client, login_admin, users, db,
                                                                   make_submitted):
    officer = users["officer"]
    dossier = make_submitted(users["applicant"])
    with app.test_request_context():
        assignment.assign_dossier(db.session.get(Dossier, dossier.id), db.session.get(User, officer.id),
                                  db.session.get(User, officer.id))
        db.session.commit()
    officer_client = app.test_client()
    from tests.conftest import CSRF_RE

    token = CSRF_RE.search(officer_client.get("/compte/connexion").get_data(as_text=True))
    officer_client.post("/compte/connexion", data={"csrf_token": token.group(1) or token.group(2),
                                                   "email": officer.email, "password": PASSWORD})
    assert officer_client.get("/").status_code == 200
    login_admin()
    page = client.get(f"/admin/comptes/{officer.id}").get_data(as_text=True)
    assert 'data-confirm="confirm-deactivate"' in page and "Désactiver le compte de" in page
    response = client.post(f"/admin/comptes/{officer.id}/etat", data={"action": "deactivate"},
                           csrf_from=f"/admin/comptes/{officer.id}")
    assert response.status_code == 302
    stored = db.session.get(User, officer.id)
    assert not stored.is_active
    assert db.session.get(Dossier, dossier.id).assigned_to_id is None
    assert officer_client.get("/").status_code == 302  # the open session is over
    [entry] = entries(db, "user.deactivate", officer)
    assert entry.details["released_dossiers"] == 1 and entry.actor_id == users["admin"].id
    release = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.assign",
                                                         AuditEntry.object_id == dossier.id,
                                                         AuditEntry.actor_id == users["admin"].id))
    assert release.details["to_id"] is None
    assert "Désactivé" in client.get("/admin/comptes").get_data(as_text=True)
    # And back.
    response = client.post(f"/admin/comptes/{officer.id}/etat", data={"action": "reactivate"},
                           csrf_from=f"/admin/comptes/{officer.id}")
    assert response.status_code == 302 and db.session.get(User, officer.id).is_active
    assert entries(db, "user.activate", officer)


def test_an_officer_becoming_a_committee_member_follows_no_dossier(app, client, login_admin, users, db,
                                                                    make_submitted):
    officer = users["officer"]
    dossier = make_submitted(users["applicant"])
    with app.test_request_context():
        assignment.assign_dossier(db.session.get(Dossier, dossier.id), db.session.get(User, officer.id),
                                  db.session.get(User, officer.id))
        db.session.commit()
    login_admin()
    response = client.post(f"/admin/comptes/{officer.id}", data={
        "full_name": officer.full_name, "email": officer.email, "role": "committee"}, follow_redirects=True)
    assert "Le dossier en cours qui lui était attribué n&#39;a plus de gestionnaire." in response.get_data(
        as_text=True)
    assert db.session.get(Dossier, dossier.id).assigned_to_id is None


def test_a_locked_account_is_unlocked(client, login_admin, users, db):
    officer = db.session.get(User, users["officer"].id)
    officer.locked_until = utcnow() + timedelta(minutes=12)
    officer.failed_logins = 3
    db.session.commit()
    login_admin()
    listing = client.get("/admin/comptes").get_data(as_text=True)
    assert "Verrouillé jusqu&#39;à" in listing or "Verrouillé jusqu'à" in listing
    page = client.get(f"/admin/comptes/{officer.id}").get_data(as_text=True)
    assert "Déverrouiller le compte" in page
    response = client.post(f"/admin/comptes/{officer.id}/etat", data={"action": "unlock"},
                           csrf_from=f"/admin/comptes/{officer.id}")
    assert response.status_code == 302
    stored = db.session.get(User, officer.id)
    assert stored.locked_until is None and stored.failed_logins == 0
    assert entries(db, "user.unlock", officer)[0].actor_id == users["admin"].id


def test_a_refused_membership_cannot_be_reactivated(client, login_admin, users, db, make_user):
    refused = make_user(Role.applicant, membership=MembershipState.refused, is_active=False)
    login_admin()
    response = client.post(f"/admin/comptes/{refused.id}/etat", data={"action": "reactivate"},
                           csrf_from=f"/admin/comptes/{refused.id}")
    assert response.status_code == 409
    assert "refus de sa demande de rattachement" in response.get_data(as_text=True)
    assert not db.session.get(User, refused.id).is_active


@pytest.mark.parametrize("path", ["/admin/comptes/{id}", "/admin/comptes/{id}/etat"])
def test_account_administration_needs_the_admin_and_a_fresh_password(client, login_as, confirm_password, users,
                                                                     path):
    target = users["officer"]
    url = path.format(id=target.id)
    login_as(users["officer"])
    assert client.post(url, data={"action": "unlock", "full_name": "X", "email": "x@exemple.fr"}).status_code == 403
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["admin"])  # without confirming the password
    response = client.post(url, data={"action": "unlock", "full_name": "X", "email": "x@exemple.fr"})
    assert response.status_code == 302 and "/compte/confirmation" in response.headers["Location"]
    confirm_password()
    # Back from the confirmation, a GET of the state URL shows the account's page.
    assert client.get(path.format(id=target.id)).status_code in (200, 302)
