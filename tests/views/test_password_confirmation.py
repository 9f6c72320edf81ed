"""Admin actions re-ask the password: without a confirmation less than 10 minutes old,
the admin is sent to /compte/confirmation and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from grants.models import AuditEntry, Call, User

from tests.conftest import CSRF_RE, PASSWORD
from tests.views.test_admin import call_form

ASKED = "Cette action d&#39;administration demande de confirmer votre mot de passe."


def assert_sent_to_confirmation(response, next_path: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 302
    assert response.headers["Location"] == f"/compte/confirmation?next={next_path}"


def counts(db):  # type: ignore[no-untyped-def]
    db.session.remove()
    return (
        db.session.scalar(select(func.count(Call.id))),
        db.session.scalar(select(func.count(User.id))),
    )


@pytest.fixture
def admin(login_as, users):  # type: ignore[no-untyped-def]
    """An admin who logged in but has not confirmed their password since."""
    login_as(users["admin"])
    return users["admin"]


@pytest.mark.parametrize("path", ["/admin/appels/nouveau", "/admin/comptes/nouveau"])
def test_form_pages_ask_for_the_password_first(client, admin, path):
    response = client.get(path)
    assert_sent_to_confirmation(response, path)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirmer votre mot de passe" in page
    assert ASKED in page


def test_edit_call_page_asks_for_the_password_first(client, admin, make_call):
    call = make_call()
    assert_sent_to_confirmation(client.get(f"/admin/appels/{call.id}"), f"/admin/appels/{call.id}")


def test_unconfirmed_admin_creates_no_call(client, db, admin, make_qpv_list):
    qpv_list = make_qpv_list()
    before = counts(db)
    response = client.post("/admin/appels/nouveau", data=call_form(qpv_list.id))
    assert_sent_to_confirmation(response, "/admin/appels/nouveau")
    assert counts(db) == before
    assert db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2027")) is None


def test_unconfirmed_admin_changes_no_call(client, db, admin, make_call):
    call = make_call()
    response = client.post(
        f"/admin/appels/{call.id}",
        data=call_form(code=call.code, envelope="1 000 000", version=str(call.version)),
    )
    assert_sent_to_confirmation(response, f"/admin/appels/{call.id}")
    db.session.remove()
    stored = db.session.get(Call, call.id)
    assert stored.envelope == Decimal("4000000.00")
    assert stored.version == call.version
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "call.update")) is None


def test_unconfirmed_admin_creates_no_account(client, db, admin, smtp_server):
    before = counts(db)
    response = client.post(
        "/admin/comptes/nouveau",
        data={"full_name": "Odile Gestionnaire", "email": "odile@dreets.gouv.fr", "role": "officer"},
    )
    assert_sent_to_confirmation(response, "/admin/comptes/nouveau")
    assert counts(db) == before
    assert smtp_server.messages == []


def test_confirmation_leads_back_to_the_form_and_allows_the_action(client, db, admin, confirm_password, smtp_server):
    response = client.post("/compte/confirmation?next=/admin/comptes/nouveau", data={"password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/comptes/nouveau"
    assert client.get("/admin/comptes/nouveau").status_code == 200
    response = client.post(
        "/admin/comptes/nouveau",
        data={"full_name": "Odile Gestionnaire", "email": "odile@dreets.gouv.fr", "role": "officer"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "odile@dreets.gouv.fr")) is not None
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == admin.id)).all()
    assert "user.password_confirm" in actions


def test_confirmation_is_valid_10_minutes(client, admin, confirm_password):
    start = datetime.now(UTC)
    confirm_password()
    with time_machine.travel(start + timedelta(minutes=9, seconds=50), tick=False):
        assert client.get("/admin/appels/nouveau").status_code == 200
    with time_machine.travel(start + timedelta(minutes=10, seconds=5), tick=False):
        assert_sent_to_confirmation(client.get("/admin/appels/nouveau"), "/admin/appels/nouveau")
        confirm_password()
        assert client.get("/admin/appels/nouveau").status_code == 200


def test_confirmation_does_not_survive_a_new_login(client, admin, login_as, users, confirm_password):
    confirm_password()
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["admin"])
    assert_sent_to_confirmation(client.get("/admin/appels/nouveau"), "/admin/appels/nouveau")


def test_wrong_password_is_refused_and_counts_towards_the_slowdown(app, client, db, admin):
    response = client.post("/compte/confirmation?next=/admin/appels/nouveau", data={"password": "pas-le-bon-mot-de-passe"})
    assert response.status_code == 200
    assert "Mot de passe incorrect" in response.get_data(as_text=True)
    assert_sent_to_confirmation(client.get("/admin/appels/nouveau"), "/admin/appels/nouveau")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        client.post("/compte/confirmation", data={"password": "pas-le-bon-mot-de-passe"})
    db.session.remove()
    assert db.session.get(User, admin.id).locked_until is not None
    # Slowed down: a browser the admin never logged in from cannot even try the right password…
    stranger = app.test_client()
    page = stranger.get("/compte/connexion").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    refused = stranger.post("/compte/connexion", data={"csrf_token": token, "email": admin.email, "password": PASSWORD})
    assert refused.status_code == 200
    # … while the admin's own browser (the one they logged in from) is not locked out.
    assert client.post("/compte/confirmation", data={"password": PASSWORD}).status_code == 302


def test_confirmation_does_not_redirect_off_site(client, admin):
    response = client.post("/compte/confirmation?next=https://evil.example/", data={"password": PASSWORD},
                           csrf_from="/compte/confirmation")
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 302), ("applicant", 403), ("officer", 403), ("committee", 404)])
def test_only_admins_have_a_confirmation_page(client, login_as, users, who, expected):
    if who != "anonymous":
        login_as(users[who])
    assert client.get("/compte/confirmation").status_code == expected


def test_read_only_admin_pages_do_not_ask(client, admin):
    for path in ("/admin/appels", "/admin/comptes", "/admin/qpv"):
        assert client.get(path).status_code == 200, path
