"""Authorisation crawler: each role crawls what it can reach from the home page; every URL seen
by one role is replayed as every other role; every form is posted without a CSRF token and,
with a valid token, by users who do not own its object. Nothing outside a role's rights
answers 200, nothing answers 500, and a refused POST changes nothing in the database."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from werkzeug.datastructures import MultiDict

from tests.security.conftest import ROLES, World, changed_tables, csrf_token, login, snapshot
from tests.security.crawler import CrawlResult, Form, crawl

LIMIT = 400
REFUSED = (403, 404)
# Pages everyone may open, logged in or not (the account pages belong to whoever is logged in).
PUBLIC = re.compile(r"^/(\?.*)?$|^/accessibilite$|^/mentions-legales$|^/sante$|^/compte/")
STAFF_PREFIXES = ("/instruction/", "/comite/", "/admin/")


def owned(world: World) -> dict[str, set[int]]:
    """Dossier ids of each applicant's structure."""
    return {
        "applicant": {world.draft.id, world.submitted.id, world.selected.id, world.on_agenda.id},
        "other_applicant": {world.other_draft.id, world.rejected.id},
    }


def within_rights(role: str, url: str, seen: set[str], world: World) -> bool:
    """Seen in the role's own crawl, public, or explicitly granted below (with the reason)."""
    if url in seen or PUBLIC.match(url):
        return True
    own = owned(world).get(role, set())
    # An applicant reads every file and the message thread of their own submitted dossiers
    # (previews and message pièces are linked from the officer's pages and the thread only).
    match = re.match(r"^/dossiers/(\d+)/", url)
    if match and int(match.group(1)) in own:
        return True
    # Officers and admins share every instruction and committee page; a crawl that reached
    # one of them through another path reaches the same rights.
    if role in ("officer", "admin") and url.startswith(("/instruction/", "/comite/", "/dossiers/")):
        return True
    return False


def crawl_everyone(app: Flask, world: World) -> tuple[dict[str, Any], dict[str, CrawlResult]]:
    clients = {role: login(app, None if role == "anonymous" else world.users[role]) for role in ROLES}
    results = {role: crawl(clients[role], limit=LIMIT) for role in ROLES}
    for role, result in results.items():
        assert not result.truncated, f"{role}: crawl bounded at {LIMIT} URLs"
        errors = {url: status for url, status in result.statuses.items() if status >= 400}
        assert errors == {}, f"{role} met errors on pages linked for them: {errors}"
    return clients, results


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/compte/connexion")


def replay_gets(clients: dict[str, Any], results: dict[str, CrawlResult], world: World) -> int:
    """Every URL seen by one role, as every other role: refused (or a login redirect)."""
    # The world is reached: each role saw its own objects.
    assert f"/porteur/dossiers/{world.draft.id}" in results["applicant"].statuses
    assert f"/porteur/dossiers/{world.other_draft.id}" in results["other_applicant"].statuses
    assert f"/instruction/dossiers/{world.submitted.id}" in results["officer"].statuses
    assert f"/comite/seances/{world.closed_session_id}/proces-verbal.pdf" in results["committee"].statuses
    assert "/admin/appels" in results["admin"].statuses
    assert f"/dossiers/{world.submitted.id}/messages" in results["officer"].statuses

    every_url = sorted(set().union(*(r.statuses for r in results.values())))
    problems, replays = [], 0
    for role in ROLES:
        seen = set(results[role].statuses)
        for url in every_url:
            if within_rights(role, url, seen, world):
                continue
            replays += 1
            response = clients[role].get(url)
            status = response.status_code
            response.close()
            if status in REFUSED or (role == "anonymous" and is_login_redirect(response)):
                continue
            problems.append(f"{role} GET {url} → {status}")
    assert problems == []
    return replays


def post_data(form: Form, token: str | None) -> MultiDict:
    """The values a browser would send, with ``token`` (or none) as the CSRF token."""
    data = [(name, value) for name, value in form.fields if name != "csrf_token"]
    return MultiDict(data + [("csrf_token", token)] if token else data)


def test_authorisation_crawler(app, db, world):
    clients, results = crawl_everyone(app, world)
    replays = replay_gets(clients, results, world)
    assert replays > 300, replays

    forms = {role: [f for f in r.forms.values() if f.method == "POST"] for role, r in results.items()}
    before = snapshot(db)

    # 1. Every form action, by the role that saw it, without its CSRF token: 400, nothing changes.
    # (Logging out last, the session is still needed before.)
    no_token = 0
    for role in ROLES:
        for form in sorted(forms[role], key=lambda f: f.action.startswith("/compte/deconnexion")):
            response = clients[role].post(form.action, data=post_data(form, None), csrf=False)
            assert response.status_code == 400, f"{role} POST {form.action} without CSRF → {response.status_code}"
            assert "jeton de sécurité" in response.get_data(as_text=True)
            no_token += 1
    assert changed_tables(before, snapshot(db)) == []

    # 2. With a valid token, by users who do not own the object: refused, nothing changes.
    own = owned(world)
    clients = {role: login(app, world.users[role]) for role in ROLES if role != "anonymous"}
    tokens = {role: csrf_token(client) for role, client in clients.items()}
    attacks: list[tuple[str, Form]] = []
    for owner, intruder in (("applicant", "other_applicant"), ("other_applicant", "applicant")):
        attacks += [(intruder, f) for f in forms[owner] if _dossier_id(f.action) in own[owner]]
    staff_forms = {f.action: f for role in ("officer", "admin") for f in forms[role]
                   if f.action.startswith(STAFF_PREFIXES) or f.action.startswith("/dossiers/")}
    for intruder in ("committee", "applicant", "other_applicant"):
        attacks += [(intruder, f) for f in staff_forms.values() if _dossier_id(f.action) not in own.get(intruder, ())]
    # Admin pages, as an officer: the admin's forms, and every admin URL the admin opened (some
    # forms may sit behind a password confirmation, their URL still takes a POST).
    admin_actions = {f.action: f for f in forms["admin"] if f.action.startswith("/admin/")}
    for url in results["admin"].statuses:
        if url.startswith("/admin/") and url not in admin_actions:
            admin_actions[url] = Form(action=url, method="POST")
    attacks += [("officer", f) for f in admin_actions.values()]
    assert {who for who, _ in attacks} == {"applicant", "other_applicant", "committee", "officer"}
    for who in sorted({who for who, _ in attacks}):
        before, sent = snapshot(db), []
        for intruder, form in attacks:
            if intruder != who:
                continue
            response = clients[who].post(form.action, data=post_data(form, tokens[who]), csrf=False)
            assert response.status_code in (400, 405, *REFUSED), f"{who} POST {form.action} → {response.status_code}"
            sent.append(f"{form.action} → {response.status_code}")
        assert changed_tables(before, snapshot(db)) == [], f"{who}'s refused POSTs changed the database: {sent}"
    assert len(attacks) > 25, len(attacks)
    print(f"crawled: { {role: len(r.statuses) for role, r in results.items()} }; GET replays: {replays}; "
          f"POST without CSRF: {no_token}; POST as non-owner: {len(attacks)}")


def _dossier_id(action: str) -> int | None:
    match = re.match(r"^/(?:porteur/)?dossiers/(\d+)(?:/|$)", action)
    return int(match.group(1)) if match else None
