"""Sessions: a new one at login, idle and absolute timeouts enforced by the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from grants.config import from_environment
from grants.models import User

from tests.conftest import CSRF_RE, PASSWORD

EXPIRED = "Votre session a expiré"


def login(client, user):  # type: ignore[no-untyped-def]
    response = client.post("/compte/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def is_logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/").status_code == 200


def assert_expired(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/compte/connexion")


# Session fixation ------------------------------------------------------------------------


def test_login_issues_a_new_session_and_the_pre_login_cookie_stays_anonymous(app, client, users):
    client.get("/compte/connexion")
    with client.session_transaction() as session:
        session["planted"] = "par un attaquant"  # as if the cookie had been set by someone else
        csrf_before = session["csrf_token"]
    before = client.get_cookie("session").value

    login(client, users["officer"])

    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session  # nothing of the pre-login session is kept
        assert session.get("csrf_token") != csrf_before
        assert session["_user_id"].startswith(f"{users['officer'].id}:")
    assert is_logged_in(client)
    # The cookie from before the login, replayed elsewhere, does not carry the login.
    replay = app.test_client()
    replay.set_cookie("session", before)
    assert not is_logged_in(replay)


def test_a_new_login_on_the_same_browser_starts_a_new_session(client, users):
    login(client, users["officer"])
    first = client.get_cookie("session").value
    client.post("/compte/deconnexion", csrf_from="/")
    login(client, users["officer"])
    assert client.get_cookie("session").value != first


# Idle timeout -------------------------------------------------------------------------------


def test_activity_keeps_the_session_alive_past_the_idle_limit(client, users):
    start = datetime.now(UTC)
    login(client, users["applicant"])
    for minutes in (29, 58, 87):  # each request less than 30 minutes after the previous one
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert is_logged_in(client)


def test_idle_session_expires_after_30_minutes(client, users):
    start = datetime.now(UTC)
    login(client, users["applicant"])
    with time_machine.travel(start + timedelta(minutes=30, seconds=5), tick=False):
        response = client.get("/")
        assert_expired(response)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert f"{EXPIRED} après 30 minutes d&#39;inactivité" in page
        assert not is_logged_in(client)


def test_expired_session_keeps_the_page_to_come_back_to(client, users):
    start = datetime.now(UTC)
    login(client, users["officer"])
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get("/compte/mot-de-passe")
    assert_expired(response)
    assert response.headers["Location"] == "/compte/connexion?next=/compte/mot-de-passe"


def test_public_pages_are_shown_anonymously_once_the_session_expired(client, users):
    start = datetime.now(UTC)
    login(client, users["officer"])
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get("/compte/connexion")
        assert response.status_code == 200
        assert EXPIRED in response.get_data(as_text=True)
        login(client, users["officer"])  # and one can log in again from there
        assert is_logged_in(client)


def test_a_copied_cookie_expires_like_the_original(app, client, users):
    start = datetime.now(UTC)
    login(client, users["officer"])
    copied = client.get_cookie("session").value
    # The original browser stays active; the copy is used 31 minutes after it was taken.
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert is_logged_in(client)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        replay = app.test_client()
        replay.set_cookie("session", copied)
        assert_expired(replay.get("/"))
        assert is_logged_in(client)


def test_a_post_on_an_expired_session_changes_nothing(client, db, users):
    user = users["officer"]
    hash_before = user.password_hash
    start = datetime.now(UTC)
    login(client, user)
    form = client.get("/compte/mot-de-passe").get_data(as_text=True)
    match = CSRF_RE.search(form)
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        response = client.post(
            "/compte/mot-de-passe",
            data={"csrf_token": match.group(1) or match.group(2), "current_password": PASSWORD,
                  "password": "un-autre-secret-bien-long", "confirm": "un-autre-secret-bien-long"},
        )
    assert_expired(response)
    assert response.headers["Location"] == "/compte/connexion"
    db.session.remove()
    assert db.session.get(User, user.id).password_hash == hash_before


# Absolute timeout ----------------------------------------------------------------------------


def test_session_ends_after_12_hours_even_when_active(client, users):
    start = datetime.now(UTC)
    login(client, users["officer"])
    for step in range(1, 36):  # a request every 20 minutes, up to 11 h 40
        with time_machine.travel(start + timedelta(minutes=20 * step), tick=False):
            assert is_logged_in(client), step
    with time_machine.travel(start + timedelta(hours=12, seconds=5), tick=False):
        response = client.get("/")
        assert_expired(response)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert f"{EXPIRED} : une session dure au plus 12 heures" in page
        assert not is_logged_in(client)
    # Logging in again opens a new 12-hour session.
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        login(client, users["officer"])
        assert is_logged_in(client)


def test_a_session_without_its_times_is_refused(client, users):
    login(client, users["officer"])
    with client.session_transaction() as session:
        del session["_login_at"]
    assert_expired(client.get("/"))
    assert not is_logged_in(client)


@pytest.fixture
def config_value(app):  # type: ignore[no-untyped-def]
    saved = dict(app.config)

    def set_value(key: str, value: int) -> None:
        app.config[key] = value

    yield set_value
    app.config.update(saved)


def test_idle_limit_comes_from_the_configuration(client, users, config_value):
    config_value("SESSION_IDLE_MINUTES", 5)
    start = datetime.now(UTC)
    login(client, users["officer"])
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert is_logged_in(client)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert_expired(client.get("/"))


def test_absolute_limit_comes_from_the_configuration(client, users, config_value):
    config_value("SESSION_MAX_HOURS", 1)
    start = datetime.now(UTC)
    login(client, users["officer"])
    for minutes in (20, 40, 59):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert is_logged_in(client)
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert_expired(client.get("/"))


def test_limits_are_read_from_the_environment(monkeypatch):
    for name in ("GRANTS_SESSION_IDLE_MINUTES", "GRANTS_SESSION_MAX_HOURS", "GRANTS_PASSWORD_CONFIRM_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    assert from_environment()["PASSWORD_CONFIRM_MINUTES"] == 10
    assert from_environment()["SESSION_IDLE_MINUTES"] == 30
    assert from_environment()["SESSION_MAX_HOURS"] == 12
    monkeypatch.setenv("GRANTS_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("GRANTS_SESSION_MAX_HOURS", "8")
    monkeypatch.setenv("GRANTS_PASSWORD_CONFIRM_MINUTES", "5")
    config = from_environment()
    assert (config["SESSION_IDLE_MINUTES"], config["SESSION_MAX_HOURS"], config["PASSWORD_CONFIRM_MINUTES"]) == (15, 8, 5)
