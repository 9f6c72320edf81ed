"""Issue 14, item 8: numbers no database column can hold, typed in a URL, answer 404 (an id)
or show the last page (``?page=``), never a 500.

Every ``<int:…>`` route of the application is tried, by a user of each role that may reach
it, with 2³¹ (above PostgreSQL's INTEGER), 2⁶³ (above SQLite's) and a number of 5 000 digits
(above what Python's ``int()`` reads from text by default)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from grants import IdConverter

from tests.security.conftest import login

HUGE = [str(2**31), str(2**63), str(10**30), "9" * 5000]
OTHER_ARGUMENTS = {"key": "project", "direction": "monter"}


def int_routes(app: Flask) -> list[tuple[str, str, list[str]]]:
    """``(rule, method, int arguments)`` of every route with an integer in its path."""
    routes = []
    for rule in app.url_map.iter_rules():
        ints = re.findall(r"<int:(\w+)>", rule.rule)
        if ints:
            method = "GET" if "GET" in rule.methods else "POST"
            routes.append((rule.rule, method, ints))
    return sorted(routes)


def test_every_int_route_uses_the_bounded_converter(app):
    routes = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(routes) >= 40
    assert all(isinstance(rule._converters[name], IdConverter)
               for rule in routes for name in re.findall(r"<int:(\w+)>", rule.rule))


@pytest.mark.parametrize("number", HUGE, ids=["2^31", "2^63", "10^30", "5000-digits"])
def test_huge_ids_answer_404_on_every_int_route(app, db, users, number):
    clients = {role: login(app, users[role]) for role in ("applicant", "officer", "admin")}
    codes: dict[str, list[tuple[str, int]]] = {}
    for rule, method, ints in int_routes(app):
        path = rule
        for name in ints:
            path = path.replace(f"<int:{name}>", number)
        for name, value in OTHER_ARGUMENTS.items():
            path = path.replace(f"<{name}>", value)
        for role, client in clients.items():
            response = client.open(path, method=method)
            codes.setdefault(rule, []).append((role, response.status_code))
    unexpected = {rule: found for rule, found in codes.items() if any(code not in (403, 404) for _, code in found)}
    assert unexpected == {}
    # Each route is one its users reach: at least one role got the 404 of "no such object".
    assert all(any(code == 404 for _, code in found) for found in codes.values()), codes


@pytest.mark.parametrize("page", [str(10**30), "9" * 5000, "-3", "0", "abc", "2.5", "١٢"])
def test_a_huge_or_odd_page_number_shows_a_page(app, client, login_admin, users, make_call, page):
    login_admin()
    call = make_call()
    for path in ("/admin/comptes", f"/instruction/appels/{call.id}/dossiers"):
        response = client.get(f"{path}?page={page}")
        assert response.status_code == 200, (path, page)


def test_a_page_past_the_end_shows_the_last_one(client, login_admin, users):
    login_admin()
    page = client.get(f"/admin/comptes?page={10**30}").get_data(as_text=True)
    assert users["officer"].email in page  # the last page (here the only one), not an empty list
