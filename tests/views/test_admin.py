"""An admin configures calls and creates State accounts."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from grants.models import AuditEntry, Call, Role, User
from tests.conftest import open_reset_link

PARIS = ZoneInfo("Europe/Paris")


def call_form(qpv_list_id: int = 0, **overrides: str) -> dict[str, str]:
    return {
        "code": "AAP-QPV-2027",
        "title": "Renforcement des parcours des jeunes des QPV — 2027",
        "programme": "Texte de l'appel.",
        "opens_at": "2026-11-25T00:00",
        "closes_at": "2027-03-26T23:59",
        "envelope": "4 000 000,00",
        "fse_rate": "0,60",
        "cej_forfait_per_youth": "1 600",
        "share_reperage": "0,40",
        "share_sortie_emploi": "0,4",
        "flat_rate_other_costs": "0",
        "required_attachments": "statuts | Statuts\nrib | RIB",
        "admissibility_criteria": "deadline | Déposé avant la date limite | auto\nsignatory | Signataire habilité | manuel",
        "qpv_list_id": str(qpv_list_id),
    } | overrides


def test_admin_creates_a_call_with_french_numbers_and_paris_times(client, login_admin, users, db, make_qpv_list):
    qpv_list = make_qpv_list()
    login_admin()
    response = client.post("/admin/appels/nouveau", data=call_form(qpv_list.id))
    assert response.status_code == 302, response.get_data(as_text=True)
    call = db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2027"))
    assert call.envelope == Decimal("4000000.00")
    assert call.cej_forfait_per_youth == Decimal("1600.00")
    assert call.fse_rate == Decimal("0.60")
    assert call.flat_rate_other_costs == Decimal("0")
    assert call.closes_at == datetime(2027, 3, 26, 23, 59, tzinfo=PARIS)
    assert call.qpv_list_id == qpv_list.id
    assert call.required_attachments == [{"code": "statuts", "label": "Statuts"}, {"code": "rib", "label": "RIB"}]
    assert call.admissibility_criteria[1] == {"code": "signatory", "label": "Signataire habilité", "auto": False}
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "call.create"))
    assert audit.actor_id == users["admin"].id


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("flat_rate_other_costs", "0,41", "au plus 0,4"),
        ("fse_rate", "0", "au moins 0,0001"),
        ("fse_rate", "1,5", "au plus 1"),
        ("envelope", "quatre millions", "Saisissez un nombre"),
        ("envelope", "-5", "au moins 0"),
        ("envelope", "10,005", "Au plus 2 décimales"),
        ("closes_at", "2026-11-01T10:00", "postérieure à l&#39;ouverture"),
        ("opens_at", "32/13/2026", "Date et heure invalides"),
        ("code", "aap qpv", "Majuscules, chiffres et tirets"),
        ("required_attachments", "statuts sans séparateur", "format attendu"),
        ("admissibility_criteria", "ab | b | peut-être", "« auto » ou « manuel »"),
    ],
)
def test_invalid_call_keeps_input_and_says_why(client, login_admin, users, db, field, value, message):
    login_admin()
    response = client.post("/admin/appels/nouveau", data=call_form(**{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "Vos saisies sont conservées" in page
    assert "Renforcement des parcours des jeunes des QPV — 2027" in page  # other input kept
    assert db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2027")) is None


def test_edit_call_records_changes_in_audit(client, login_admin, users, db, make_call):
    call = make_call()
    login_admin()
    page = client.get(f"/admin/appels/{call.id}").get_data(as_text=True)
    assert 'value="4 000 000,00"' in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    data = call_form(code=call.code, envelope="3 500 000", version=version)
    response = client.post(f"/admin/appels/{call.id}", data=data)
    assert response.status_code == 302
    stored = db.session.get(Call, call.id)
    assert stored.envelope == Decimal("3500000.00")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "call.update"))
    assert entry.details["envelope"] == ["4000000.00", "3500000.00"]


def test_concurrent_call_edit_is_reported_and_input_kept(client, login_admin, users, db, make_call):
    call = make_call()
    login_admin()
    stale_version = str(call.version)
    first = client.post(f"/admin/appels/{call.id}", data=call_form(code=call.code, envelope="1 000 000", version=stale_version))
    assert first.status_code == 302
    second = client.post(
        f"/admin/appels/{call.id}", data=call_form(code=call.code, envelope="2 222 222,22", version=stale_version)
    )
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "modifié par quelqu&#39;un d&#39;autre" in page
    assert 'value="2 222 222,22"' in page
    assert db.session.get(Call, call.id).envelope == Decimal("1000000.00")


def test_admin_creates_officer_account_who_sets_password_by_email(client, app, login_admin, users, db, smtp_server):
    login_admin()
    response = client.post(
        "/admin/comptes/nouveau",
        data={"full_name": "Odile Gestionnaire", "email": "odile@dreets.gouv.fr", "role": "officer"},
    )
    assert response.status_code == 302
    officer = db.session.scalar(select(User).where(User.email == "odile@dreets.gouv.fr"))
    assert officer.role is Role.officer and officer.structure_id is None
    [message] = smtp_server.messages
    link = re.search(r"http://localhost(/compte/reinitialiser/\S+)", message.get_content()).group(1)
    newcomer = app.test_client()
    form = open_reset_link(newcomer, link)
    token_page = newcomer.get(form).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    response = newcomer.post(form, data={"csrf_token": token, "password": "odile-mot-de-passe", "confirm": "odile-mot-de-passe"})
    assert response.status_code == 302
    # the account is usable with the chosen password
    fresh = app.test_client()
    page = fresh.get("/compte/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    login = fresh.post("/compte/connexion", data={"csrf_token": token, "email": "odile@dreets.gouv.fr", "password": "odile-mot-de-passe"})
    assert login.status_code == 302


def test_admin_cannot_create_applicant_accounts(client, login_admin, users, db):
    login_admin()
    response = client.post(
        "/admin/comptes/nouveau", data={"full_name": "X", "email": "x@exemple.fr", "role": "applicant"}
    )
    assert response.status_code == 200
    assert "N&#39;est pas un choix valide." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "x@exemple.fr")) is None


def test_qpv_list_page_shows_communes(client, login_admin, users, make_qpv_list):
    qpv_list = make_qpv_list()
    login_admin()
    page = client.get(f"/admin/qpv/{qpv_list.id}").get_data(as_text=True)
    assert "QN05901M" in page and "Lille (59350)" in page
