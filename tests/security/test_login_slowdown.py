"""Issue 14, items 3 and 9: nobody can keep an account locked out, and no password form is an
unlimited oracle.

Before: 5 failures locked the account 15 minutes for everyone, its owner included, and an
attacker re-locked it at each expiry (about 20 requests an hour). Now the attacking address
is throttled (RATELIMIT_LOGIN, and RATELIMIT_LOGIN_FAILURES on failures only), the account
is slowed down (one attempt per growing delay) for browsers it never logged in from only,
its owner is told by e-mail, and every refusal shows the generic message of a wrong password.
The change-password form is rate limited and its failures count towards the same slowdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from grants.extensions import limiter
from grants.models import AuditEntry, User
from grants.security import KNOWN_DEVICE_COOKIE
from tests.conftest import PASSWORD, CsrfClient, open_reset_link

GENERIC = "Adresse électronique ou mot de passe incorrect, ou compte temporairement bloqué."
WRONG = "pas-le-bon-mot-de-passe"


def browser(app: Flask) -> CsrfClient:
    app.test_client_class = CsrfClient
    return app.test_client()  # type: ignore[return-value]


def attempt(client: CsrfClient, email: str, password: str) -> int:
    response = client.post("/compte/connexion", data={"email": email, "password": password})
    if response.status_code == 200:
        assert GENERIC in response.get_data(as_text=True)
    return response.status_code


@pytest.fixture
def owners_browser(app, users):  # type: ignore[no-untyped-def]
    """The browser the victim (an admin) usually logs in from: logged in once, then out."""
    owner = browser(app)
    assert attempt(owner, users["admin"].email, PASSWORD) == 302
    assert owner.get_cookie(KNOWN_DEVICE_COOKIE, path="/compte/") is not None
    owner.post("/compte/deconnexion", csrf_from="/")
    return owner


def test_an_attacker_cannot_lock_the_owner_out(app, db, users, owners_browser):
    victim = users["admin"]
    attacker = browser(app)
    start = datetime.now(UTC)
    # Two hours of re-locking at every expiry, and a burst of 50 guesses.
    for minute in range(0, 120, 15):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            for _ in range(6):
                attempt(attacker, victim.email, WRONG)
    for _ in range(50):
        attempt(attacker, victim.email, WRONG)
    # The attacker's browser never gets the right password checked again…
    assert attempt(attacker, victim.email, PASSWORD) == 200
    # … while the owner logs in from their usual browser, at once, with their password.
    assert attempt(owners_browser, victim.email, PASSWORD) == 302


def test_the_slowdown_grows_for_a_new_browser_and_always_answers_generically(app, db, users):
    user = users["officer"]
    stranger = browser(app)
    start = datetime.now(UTC)
    first = app.config["LOGIN_DELAY_FIRST_SECONDS"]
    with time_machine.travel(start, tick=False):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            assert attempt(stranger, user.email, WRONG) == 200
        assert attempt(stranger, user.email, PASSWORD) == 200  # inside the delay: not even checked
    with time_machine.travel(start + timedelta(seconds=first + 1), tick=False):
        assert attempt(stranger, user.email, WRONG) == 200  # one try allowed, wrong: the delay doubles
    with time_machine.travel(start + timedelta(seconds=2 * first), tick=False):
        assert attempt(stranger, user.email, PASSWORD) == 200
    with time_machine.travel(start + timedelta(seconds=3 * first + 2), tick=False):
        assert attempt(stranger, user.email, PASSWORD) == 302
    db.session.remove()
    assert db.session.get(User, user.id).locked_until is None  # a success ends the slowdown


def test_the_delay_is_capped(app, db, users):
    user = users["officer"]
    stranger = browser(app)
    moment = datetime.now(UTC)
    for _ in range(30):  # each allowed try doubles the delay, up to the cap
        with time_machine.travel(moment, tick=False):
            attempt(stranger, user.email, WRONG)
        db.session.remove()
        moment = max(moment, db.session.get(User, user.id).locked_until or moment) + timedelta(seconds=1)
    db.session.remove()
    slowed_until = db.session.get(User, user.id).locked_until
    assert slowed_until - (moment - timedelta(seconds=1)) <= timedelta(seconds=app.config["LOGIN_DELAY_MAX_SECONDS"])


def test_the_owner_is_told_once_by_e_mail(app, db, users, smtp_server):
    user = users["applicant"]
    attacker = browser(app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 3):
        attempt(attacker, user.email, WRONG)
    [mail] = smtp_server.messages
    assert mail["To"] == user.email
    assert mail["Subject"] == "[Parcours QPV] Tentatives de connexion à votre compte"
    text = mail.get_content()
    assert "Votre compte\r\nn'est pas bloqué" in text or "n'est pas bloqué" in text.replace("\r\n", " ")
    assert "http://localhost/compte/mot-de-passe-oublie" in text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.slowed_down",
                                                       AuditEntry.object_id == user.id))
    assert entry is not None and entry.details["failures"] == app.config["LOGIN_MAX_FAILURES"]


def test_a_password_reset_lifts_the_slowdown(app, db, users, smtp_server):
    user = users["applicant"]
    stranger = browser(app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(stranger, user.email, WRONG)
    stranger.post("/compte/mot-de-passe-oublie", data={"email": user.email})
    link = next(m for m in smtp_server.messages if "Réinitialisation" in m["Subject"]).get_content()
    path = link[link.index("/compte/reinitialiser/"):].split()[0]
    new = "Un-Nouveau-Secret-De-Porteur-42"
    assert stranger.post(open_reset_link(stranger, path), data={"password": new, "confirm": new}).status_code == 302
    assert attempt(stranger, user.email, new) == 302


@pytest.fixture
def strict_limits(app):  # type: ignore[no-untyped-def]
    previous = app.config["RATELIMIT_LOGIN"], app.config["RATELIMIT_LOGIN_FAILURES"]
    app.config.update(RATELIMIT_LOGIN="1000 per minute", RATELIMIT_LOGIN_FAILURES="5 per hour")
    limiter.reset()
    yield
    app.config.update(RATELIMIT_LOGIN=previous[0], RATELIMIT_LOGIN_FAILURES=previous[1])
    limiter.reset()


def test_the_attacking_address_is_throttled_on_its_failures(app, db, users, make_user, strict_limits):
    """Password spraying: one wrong guess on each of many accounts, from one address."""
    victims = [make_user() for _ in range(6)]
    sprayer = browser(app)
    codes = [attempt(sprayer, victim.email, WRONG) for victim in victims]
    assert codes == [200] * 5 + [429]


def test_successful_logins_do_not_count_as_failures(app, db, users, strict_limits):
    client = browser(app)
    for _ in range(8):
        assert attempt(client, users["officer"].email, PASSWORD) == 302
        client.post("/compte/deconnexion", csrf_from="/")


# Item 9: the change-password form ---------------------------------------------------------


def change(client: CsrfClient, current: str) -> int:
    return client.post("/compte/mot-de-passe", data={
        "current_password": current, "password": "Un-Autre-Secret-Solide-77", "confirm": "Un-Autre-Secret-Solide-77",
    }).status_code


def test_the_change_password_form_counts_its_failures(app, db, users, login_as, client):
    user = users["officer"]
    login_as(user)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert change(client, WRONG) == 200
    db.session.remove()
    assert db.session.get(User, user.id).locked_until is not None
    # The stolen session gave no more guesses: a browser the officer never used is slowed down.
    assert attempt(browser(app), user.email, PASSWORD) == 200


def test_the_change_password_form_is_rate_limited(app, db, users, login_as, client):
    login_as(users["officer"])
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    limiter.reset()
    try:
        codes = [change(client, WRONG) for _ in range(4)]
    finally:
        app.config["RATELIMIT_LOGIN"] = "10000 per minute"
        limiter.reset()
    assert codes == [200, 200, 200, 429]


def test_a_forged_or_foreign_device_cookie_is_worth_nothing(app, db, users):
    user = users["officer"]
    stranger = browser(app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(stranger, user.email, WRONG)
    stranger.set_cookie(KNOWN_DEVICE_COOKIE, f"[{user.id}].forged", path="/compte/")
    assert attempt(stranger, user.email, PASSWORD) == 200
    # A real cookie, of another account: no exemption for this one.
    other = browser(app)
    assert attempt(other, users["admin"].email, PASSWORD) == 302
    other.post("/compte/deconnexion", csrf_from="/")
    assert attempt(other, user.email, PASSWORD) == 200
