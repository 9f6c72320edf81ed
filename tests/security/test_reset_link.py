"""Issue 14, item 11: a reset token is in one request's URL only, the e-mailed link's. Its
first GET keeps the token in the session and sends the browser to a URL without it: the
form, its POST and whatever follows never carry it (access logs, history, Referer)."""

from __future__ import annotations

import re

from grants.models import User

NEW = "Un-Nouveau-Secret-Solide-5521"


def reset_link(smtp_server) -> str:  # type: ignore[no-untyped-def]
    [mail] = smtp_server.messages
    return re.search(r"http://localhost(/compte/reinitialiser/\S+)", mail.get_content()).group(1)


def test_the_token_leaves_the_url_after_the_first_request(client, db, users, smtp_server):
    user = users["applicant"]
    assert client.post("/compte/mot-de-passe-oublie", data={"email": user.email}).status_code == 302
    link = reset_link(smtp_server)
    token = link.rsplit("/", 1)[1]

    seen: list[str] = []  # every URL the browser requests or is sent to after the link
    first = client.get(link)
    assert first.status_code == 302
    seen.append(first.headers["Location"])
    form_page = client.get(first.headers["Location"])
    assert form_page.status_code == 200
    html = form_page.get_data(as_text=True)
    assert "Choisir un nouveau mot de passe" in html
    action = re.search(r'<form method="post"(?: action="([^"]*)")?', html).group(1) or first.headers["Location"]
    seen.append(action)
    done = client.post(action, data={"password": NEW, "confirm": NEW}, csrf_from=first.headers["Location"])
    assert done.status_code == 302
    seen.append(done.headers["Location"])
    assert seen == ["/compte/reinitialiser", "/compte/reinitialiser", "/compte/connexion"]
    assert token not in html and all(token not in url for url in seen)
    db.session.remove()
    assert db.session.get(User, user.id).password_hash != user.password_hash
    # Used: the link and the session's copy of its token are both void.
    assert client.get("/compte/reinitialiser").headers["Location"] == "/compte/mot-de-passe-oublie"
    assert client.get(link).headers["Location"] == "/compte/mot-de-passe-oublie"


def test_the_tokens_url_takes_no_form(client, users, smtp_server):
    """A POST to the link itself (a form that would keep the token in its URL) is refused."""
    client.post("/compte/mot-de-passe-oublie", data={"email": users["applicant"].email})
    link = reset_link(smtp_server)
    assert client.post(link, data={"password": NEW, "confirm": NEW}, csrf=False).status_code == 405


def test_the_form_without_a_token_in_the_session_sends_back_to_the_request_page(client):
    response = client.get("/compte/reinitialiser")
    assert response.headers["Location"] == "/compte/mot-de-passe-oublie"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "invalide ou a expiré" in page


def test_the_token_in_one_browser_is_not_another_browsers(app, client, users, smtp_server):
    client.post("/compte/mot-de-passe-oublie", data={"email": users["applicant"].email})
    client.get(reset_link(smtp_server))
    other = app.test_client()
    assert other.get("/compte/reinitialiser").headers["Location"] == "/compte/mot-de-passe-oublie"
