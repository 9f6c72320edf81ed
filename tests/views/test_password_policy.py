"""Passwords: at least 12 characters and none of the 10 000 most common ones, wherever a
password is chosen (registration, change, reset)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grants.demo import DEMO_ACCOUNTS
from grants.models import User
from grants.security import COMMON_PASSWORDS_FILE, common_passwords, password_problem

from tests.conftest import PASSWORD, open_reset_link
from tests.views.test_auth import REGISTRATION, _reset_link, login

COMMON = "fait partie des 10 000 mots de passe les plus courants"


def test_the_shipped_list_holds_10000_distinct_lowercase_passwords():
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10_000
    assert len(set(lines)) == 10_000
    assert all(line == line.lower() and line.strip() == line and line for line in lines)
    assert lines[:3] == ["123456", "password", "12345678"]  # most frequent first
    assert common_passwords() == frozenset(lines)


def test_the_list_is_read_once():
    assert common_passwords() is common_passwords()


@pytest.mark.parametrize("password", ["qwerty123456", "QWERTY123456", "Qwerty123456", "1qaz2wsx3edc", "LeaveMeAlone"])
def test_common_passwords_are_refused_whatever_the_case(password):
    problem = password_problem(password)
    assert problem is not None
    assert COMMON in problem


@pytest.mark.parametrize("password", ["qwerty123457", "une phrase de passe peu probable", PASSWORD])
def test_uncommon_long_passwords_pass(password):
    assert password_problem(password) is None


def test_short_passwords_are_refused_for_their_length_first():
    assert "au moins 12 caractères" in password_problem("password")


def test_demo_passwords_are_not_common():
    assert [a["email"] for a in DEMO_ACCOUNTS if password_problem(a["password"])] == []


def test_registration_refuses_a_common_password(client, db):
    response = client.post(
        "/compte/inscription", data=REGISTRATION | {"password": "Qwerty123456", "confirm": "Qwerty123456"}
    )
    assert response.status_code == 200
    assert COMMON in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == REGISTRATION["email"])) is None


def test_change_password_refuses_a_common_password(client, db, users):
    user = users["officer"]
    login(client, user.email)
    response = client.post(
        "/compte/mot-de-passe",
        data={"current_password": PASSWORD, "password": "1QAZ2WSX3EDC", "confirm": "1QAZ2WSX3EDC"},
    )
    assert response.status_code == 200
    assert COMMON in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.get(User, user.id).password_hash == user.password_hash


def test_reset_refuses_a_common_password(client, db, users, smtp_server):
    user = users["applicant"]
    client.post("/compte/mot-de-passe-oublie", data={"email": user.email})
    link = _reset_link(smtp_server.messages[0])
    response = client.post(open_reset_link(client, link), data={"password": "qazwsxedcrfv", "confirm": "qazwsxedcrfv"})
    assert response.status_code == 200
    assert COMMON in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.get(User, user.id).password_hash == user.password_hash
    assert re.search(r"/compte/reinitialiser/", link)
