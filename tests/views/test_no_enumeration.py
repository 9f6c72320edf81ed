"""No account enumeration: the login form and the reset request answer the same whether
the e-mail address has an account or not."""

from __future__ import annotations

import re

import pytest

from grants.models import User

from tests.conftest import PASSWORD
from tests.views.test_auth import GENERIC, login

UNKNOWN = "personne-inconnue@exemple.fr"
RESET_ANSWER = "Si un compte correspond à cette adresse, un lien de réinitialisation vient d&#39;y être envoyé."


def normalised(page: str, email: str) -> str:
    """The page without what legitimately differs: the CSRF token and the typed address."""
    page = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", page)
    page = re.sub(r'<meta name="csrf-token" content="[^"]+"', "CSRF", page)
    page = re.sub(r'nonce="[^"]+"', "NONCE", page)
    return page.replace(email, "EMAIL")


@pytest.fixture
def answers(client, db, users, make_user):  # type: ignore[no-untyped-def]
    """The login answer for each way of failing, as (status, normalised page)."""
    officer = users["officer"]
    inactive = make_user(email="ancien-agent@exemple.fr")
    inactive.is_active = False
    db.session.add(inactive)
    db.session.commit()
    cases = {
        "unknown address": (UNKNOWN, "mauvais-mot-de-passe"),
        "wrong password": (officer.email, "mauvais-mot-de-passe"),
        "deactivated account, right password": (inactive.email, PASSWORD),
    }
    result = {}
    for name, (email, password) in cases.items():
        response = login(client, email, password)
        result[name] = (response.status_code, normalised(response.get_data(as_text=True), email))
    return result


def test_every_login_failure_gives_the_same_status_and_page(answers):
    statuses = {status for status, _ in answers.values()}
    pages = {page for _, page in answers.values()}
    assert statuses == {200}
    assert len(pages) == 1, list(answers)
    assert GENERIC in pages.pop()


def test_a_locked_account_answers_like_a_wrong_password(app, client, db, users):
    user = users["applicant"]
    wrong = login(client, user.email, "mauvais-mot-de-passe")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, user.email, "mauvais-mot-de-passe")
    db.session.remove()
    assert db.session.get(User, user.id).locked_until is not None
    locked = login(client, user.email)  # the right password, on a locked account
    assert locked.status_code == wrong.status_code == 200
    assert normalised(locked.get_data(as_text=True), user.email) == normalised(wrong.get_data(as_text=True), user.email)


def test_reset_request_answers_the_same_for_known_and_unknown_addresses(app, client, users, smtp_server):
    answers = []
    for email in (users["officer"].email, UNKNOWN):
        response = client.post("/compte/mot-de-passe-oublie", data={"email": email})
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert RESET_ANSWER in page
        answers.append((response.status_code, response.headers["Location"], normalised(page, "")))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, "/compte/connexion")
    # Only the real account receives a message.
    assert [m["To"] for m in smtp_server.messages] == [users["officer"].email]


def test_reset_request_for_a_deactivated_account_answers_the_same_and_sends_nothing(client, db, make_user, smtp_server):
    user = make_user()
    user.is_active = False
    db.session.add(user)
    db.session.commit()
    response = client.post("/compte/mot-de-passe-oublie", data={"email": user.email}, follow_redirects=True)
    assert response.status_code == 200
    assert RESET_ANSWER in response.get_data(as_text=True)
    assert smtp_server.messages == []
