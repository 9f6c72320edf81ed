"""Issue 14, item 5: SIRET squatting.

A SIRET is public: the first person to register one became its structure's member without
any proof, and a member could change the structure's SIRET at any time, even after a
decision, with no trace. Now a structure created by an applicant is *to verify* until DREETS
staff verify it (audited), which shows in the officer's queue and as an automatic
admissibility criterion; drafts can start meanwhile; once a dossier of the structure was
submitted only staff change its SIRET (audited, the members told by e-mail)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from grants.extensions import make_engine
from grants.migrate import downgrade, upgrade
from grants.models import AuditEntry, Dossier, Role, Structure, StructureVerification, User
from grants.models.users import MembershipState
from grants.operations.dossiers import submit_dossier
from tests.conftest import COMPLETE_STRUCTURE, _valid_siret, register_through_email
from tests.views.test_applicant import version_of

REGISTRATION = {
    "full_name": "Sam Squatteur", "email": "sam@ailleurs.example", "structure_name": "Mission locale du Hainaut",
    "siret": _valid_siret(7777), "structure_kind": "mission_locale",
    "password": "un-mot-de-passe-long", "confirm": "un-mot-de-passe-long",
}


@pytest.fixture
def squatted(app, client, db, smtp_server, make_call, store):  # type: ignore[no-untyped-def]
    """A structure registered by an applicant (nobody verified it) with a submitted dossier."""
    from tests.conftest import COMPLETE_CONTENT, SAMPLE_PDF
    from grants.operations import dossiers as ops

    register_through_email(client, REGISTRATION, smtp_server)
    client.post("/compte/deconnexion", csrf_from="/")
    smtp_server.messages.clear()
    call = make_call()
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == REGISTRATION["email"]))
        structure = user.structure
        for key, value in COMPLETE_STRUCTURE.items():
            setattr(structure, key, value)
        dossier = ops.create_dossier(call, structure, user)  # drafts start before any verification
        for key, value in COMPLETE_CONTENT.items():
            ops.save_section(dossier, key, value, user, dossier.version)
        for item in call.required_attachments:
            ops.add_attachment(dossier, item["code"], "piece.pdf", SAMPLE_PDF, user, store=store, max_bytes=10**7)
        submit_dossier(dossier, user, store=store, expected_version=dossier.version)
        db.session.commit()
        return {"structure_id": structure.id, "dossier_id": dossier.id, "user_id": user.id, "call_id": call.id}


def structure_entries(db, structure_id: int, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    db.session.remove()
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.object_type == "Structure", AuditEntry.object_id == structure_id)))


def test_a_registered_structure_is_to_verify_and_its_dossier_can_be_submitted(db, squatted):
    structure = db.session.get(Structure, squatted["structure_id"])
    assert structure.verification is StructureVerification.to_verify and structure.verified_at is None
    assert db.session.get(Dossier, squatted["dossier_id"]).submitted_at is not None


def test_the_queue_and_the_dossier_page_show_it(client, db, login_as, users, squatted):
    login_as(users["officer"])
    queue = client.get(f"/instruction/appels/{squatted['call_id']}/dossiers").get_data(as_text=True)
    assert "Structure à vérifier" in queue
    page = client.get(f"/instruction/dossiers/{squatted['dossier_id']}").get_data(as_text=True)
    status = page[page.index('id="statut-structure"'):][:600]
    assert "Structure à vérifier" in status and f"/instruction/structures/{squatted['structure_id']}" in status
    listing = client.get("/instruction/structures").get_data(as_text=True)
    assert REGISTRATION["structure_name"] in listing and REGISTRATION["siret"] in listing


def test_the_admissibility_criterion_fails_until_staff_verify(client, db, login_as, users, squatted):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{squatted['dossier_id']}"
    page = client.get(base).get_data(as_text=True).replace("&#39;", "'")
    assert "Structure porteuse vérifiée par la DREETS (SIRET)" in page
    assert "Structure à vérifier : la DREETS n'a pas encore vérifié" in page

    structure_url = f"/instruction/structures/{squatted['structure_id']}"
    response = client.post(f"{structure_url}/verification", data={"note": "SIRET actif, appel à la direction."},
                           csrf_from=structure_url)
    assert response.status_code == 302
    [entry] = structure_entries(db, squatted["structure_id"], "structure.verify")
    assert entry.actor_id == users["officer"].id and entry.details["note"] == "SIRET actif, appel à la direction."
    assert (entry.from_state, entry.to_state) == ("to_verify", "verified")
    structure = db.session.get(Structure, squatted["structure_id"])
    assert structure.is_verified and structure.verified_at is not None
    page = client.get(base).get_data(as_text=True)
    assert "Structure vérifiée par la DREETS le" in page
    shown = client.get(structure_url).get_data(as_text=True)
    assert users["officer"].full_name in shown[shown.index('id="statut-structure"'):][:300]
    # Twice is refused, and says so.
    again = client.post(f"{structure_url}/verification", data={}, csrf_from=structure_url, follow_redirects=True)
    assert "déjà vérifiée" in again.get_data(as_text=True)


def test_a_member_cannot_change_the_siret_once_a_dossier_was_submitted(client, db, login_as, squatted,
                                                                      smtp_server):
    member = db.session.get(User, squatted["user_id"])
    client.post("/compte/connexion", data={"email": member.email, "password": REGISTRATION["password"]})
    page = client.get("/porteur/structure").get_data(as_text=True)
    assert 'readonly' in page and "seul le service FSE+ de la DREETS peut le corriger" in page
    form = {name: value for name, value in COMPLETE_STRUCTURE.items() if name not in ("commune_name", "departement")}
    response = client.post("/porteur/structure", data=form | {
        "version": version_of(page), "name": REGISTRATION["structure_name"], "siret": _valid_siret(4242),
        "kind": "mission_locale"})
    assert response.status_code == 422
    assert "Le SIRET ne peut plus être modifié ici" in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.get(Structure, squatted["structure_id"]).siret == REGISTRATION["siret"]
    assert smtp_server.messages == []


def test_before_any_submission_a_member_may_change_it_and_the_structure_is_to_verify_again(
    client, db, login_as, users, make_user, smtp_server
):
    member = users["applicant"]
    colleague = make_user(Role.applicant, structure=db.session.get(Structure, member.structure_id))
    login_as(member)
    page = client.get("/porteur/structure").get_data(as_text=True)
    assert "readonly" not in page
    structure = db.session.get(Structure, member.structure_id)
    assert structure.is_verified  # the factories' structures are verified, as the demo's
    form = {name: value for name, value in COMPLETE_STRUCTURE.items() if name not in ("commune_name", "departement")}
    response = client.post("/porteur/structure", data=form | {
        "version": version_of(page), "name": structure.name, "siret": _valid_siret(4243), "kind": "mission_locale"})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    db.session.remove()
    structure = db.session.get(Structure, member.structure_id)
    assert structure.siret == _valid_siret(4243) and not structure.is_verified
    [entry] = structure_entries(db, structure.id, "structure.unverify")
    assert entry.details["reason"] == "SIRET modifié par un membre de la structure"
    [mail] = smtp_server.messages
    assert set(mail["To"].split(", ")) == {member.email, colleague.email}
    assert _valid_siret(4243) in mail.get_content()


def test_staff_change_the_siret_after_a_submission_audited_and_the_members_are_told(client, db, login_as, users,
                                                                                     squatted, smtp_server):
    login_as(users["officer"])
    url = f"/instruction/structures/{squatted['structure_id']}"
    refused = client.post(f"{url}/siret", data={"siret": _valid_siret(5151), "motive": ""}, csrf_from=url)
    assert refused.status_code == 422 and "Ce champ est obligatoire" in refused.get_data(as_text=True)
    response = client.post(f"{url}/siret", data={"siret": _valid_siret(5151), "motive": "Erreur de saisie (NIC)."},
                           csrf_from=url)
    assert response.status_code == 302
    [entry] = structure_entries(db, squatted["structure_id"], "structure.siret_change")
    assert entry.details == {"from": REGISTRATION["siret"], "to": _valid_siret(5151), "motive": "Erreur de saisie (NIC)."}
    assert entry.actor_id == users["officer"].id
    [mail] = smtp_server.messages
    assert mail["To"] == REGISTRATION["email"]
    text_ = mail.get_content().replace("\r\n", "\n")
    assert "par le service FSE+ de la DREETS" in text_ and "Erreur de saisie (NIC)." in text_
    assert f"ancien SIRET : {REGISTRATION['siret']}" in text_
    # Another structure's SIRET is refused next to the field.
    taken = db.session.get(Structure, users["applicant"].structure_id).siret
    duplicate = client.post(f"{url}/siret", data={"siret": taken, "motive": "x"}, csrf_from=url)
    assert duplicate.status_code == 422 and "Une autre structure est déjà inscrite" in duplicate.get_data(as_text=True)


@pytest.mark.parametrize(("who", "status"), [("applicant", 403), ("committee", 404), ("other_applicant", 403)])
def test_only_staff_reach_the_structures(client, db, login_as, users, squatted, who, status):
    login_as(users[who])
    url = f"/instruction/structures/{squatted['structure_id']}"
    assert client.get("/instruction/structures").status_code == status
    assert client.get(url).status_code == status
    assert client.post(f"{url}/verification", data={}, csrf_from="/").status_code == status
    db.session.remove()
    assert not db.session.get(Structure, squatted["structure_id"]).is_verified


def test_an_admin_removes_the_squatter_and_the_real_staff_get_in(client, db, login_as, confirm_password, users,
                                                                 make_user, squatted):
    structure = db.session.get(Structure, squatted["structure_id"])
    real = make_user(Role.applicant, structure=structure, membership=MembershipState.pending, full_name="Vraie Directrice")
    # An officer verifies, but removing a member is the admin's, after the password again.
    login_as(users["officer"])
    url = f"/instruction/structures/{squatted['structure_id']}"
    assert client.post(f"{url}/membres/{squatted['user_id']}/retrait", csrf_from=url).status_code == 403
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["admin"])
    page = client.get(url).get_data(as_text=True)
    assert "Vraie Directrice" in page and "Confirmer mon mot de passe pour retirer un membre" in page
    confirm_password()
    page = client.get(url).get_data(as_text=True)
    assert 'data-confirm="retirer-' in page
    assert client.post(f"{url}/membres/{squatted['user_id']}/retrait", csrf_from=url).status_code == 302
    db.session.remove()
    squatter = db.session.get(User, squatted["user_id"])
    assert squatter.membership is MembershipState.refused and not squatter.is_active
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.membership_remove"))
    assert entry.actor_id == users["admin"].id and entry.object_id == squatter.id
    decided = client.post(f"/admin/comptes/{real.id}/rattachement", data={"approve": "Accepter"},
                          csrf_from=f"/admin/comptes/{real.id}/rattachement")
    assert decided.status_code == 302
    db.session.remove()
    assert [u.full_name for u in db.session.get(Structure, structure.id).users] == ["Vraie Directrice"]


def test_the_demo_structures_are_verified(app, db):
    result = app.test_cli_runner().invoke(args=["grants", "demo-data"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    structures = db.session.scalars(select(Structure)).all()
    assert structures and all(s.is_verified and s.verified_at is not None for s in structures)


# Migration f1c4d2e6a8b7 on a database with data --------------------------------------------------

BEFORE = "e8f3a1c2b4d5"


def test_existing_structures_are_to_verify_and_existing_calls_get_the_criterion(fresh_databases):
    url = fresh_databases.new("verification")
    upgrade(url, BEFORE)
    engine = make_engine(url)
    criteria = [{"code": "deadline", "label": "Délai", "auto": True},
                {"code": "single_applicant", "label": "Seule", "auto": True},
                {"code": "signatory", "label": "Signataire", "auto": False}]
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO structures (name, siret, legal_form, kind, address, postal_code, commune_insee, "
                "commune_name, departement, legal_rep_name, legal_rep_title, contact_name, contact_email, "
                "contact_phone, created_at, version) VALUES ('ML', '90010000900019', '', 'mission_locale', '', '', "
                "'', '', '', '', '', '', '', '', CURRENT_TIMESTAMP, 1)"
            ))
            for code, listed in (("AAP-A", criteria), ("AAP-B", [])):
                conn.execute(text(
                    "INSERT INTO calls (code, title, programme, opens_at, closes_at, envelope, fse_rate, "
                    "cej_forfait_per_youth, share_reperage, share_sortie_emploi, flat_rate_other_costs, "
                    "required_attachments, admissibility_criteria, created_at, updated_at, version) VALUES "
                    "(:code, 'Appel', '', '2026-01-01 00:00:00+00:00', '2026-06-01 00:00:00+00:00', 100, 0.6, 0, "
                    "0.4, 0.4, 0.4, '[]', :criteria, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                ), {"code": code, "criteria": json.dumps(listed)})
        engine.dispose()

        upgrade(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT verification, verified_at FROM structures")).one() == ("to_verify", None)
            rows = dict(conn.execute(text("SELECT code, admissibility_criteria FROM calls")).all())
        decoded = {code: json.loads(value) if isinstance(value, str) else value for code, value in rows.items()}
        assert [c["code"] for c in decoded["AAP-A"]] == ["deadline", "single_applicant", "structure_verified", "signatory"]
        assert [c["code"] for c in decoded["AAP-B"]] == ["structure_verified"]
        for sql in ("UPDATE structures SET verification = 'verified'",  # verified needs its date
                    "UPDATE structures SET verification = 'invented', verified_at = CURRENT_TIMESTAMP"):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(sql))
        engine.dispose()

        downgrade(url, BEFORE)
        with engine.connect() as conn:
            assert "verification" not in conn.execute(text("SELECT * FROM structures")).keys()
            value = conn.execute(text("SELECT admissibility_criteria FROM calls WHERE code = 'AAP-A'")).scalar_one()
        assert [c["code"] for c in (json.loads(value) if isinstance(value, str) else value)] == [
            "deadline", "single_applicant", "signatory"]
    finally:
        engine.dispose()
