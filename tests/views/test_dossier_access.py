"""Object-level access to dossiers: every route × every kind of user."""

from __future__ import annotations

import pytest

from tests.views.test_applicant import submit

WHO = ["owner", "other_applicant", "officer", "committee", "admin", "anonymous"]

# Applicant routes: only the owner's structure; staff get 403 from the role check,
# another applicant 404 (the id must not reveal that the dossier exists).
APPLICANT_ROUTES = [
    ("GET", "/porteur/dossiers/{id}"),
    ("GET", "/porteur/dossiers/{id}/sections/project"),
    ("POST", "/porteur/dossiers/{id}/sections/project"),
    ("GET", "/porteur/dossiers/{id}/pieces"),
    ("POST", "/porteur/dossiers/{id}/pieces"),
    ("POST", "/porteur/dossiers/{id}/pieces/{att}/retirer"),
    ("GET", "/porteur/dossiers/{id}/deposer"),
    ("GET", "/porteur/dossiers/{id}/retirer"),
    ("POST", "/porteur/dossiers/{id}/retirer"),
]
EXPECTED_APPLICANT = {"owner": (200, 302, 422), "other_applicant": (404,), "officer": (403,),
                      "committee": (404,), "admin": (403,), "anonymous": (302,)}


@pytest.fixture
def draft(users, make_dossier):
    dossier = make_dossier(users["applicant"])
    return dossier, dossier.current_attachments[0].id if dossier.current_attachments else None


def as_user(client, login_as, users, who):
    if who == "owner":
        login_as(users["applicant"])
    elif who != "anonymous":
        login_as(users[who])


@pytest.mark.parametrize(("method", "route"), APPLICANT_ROUTES)
@pytest.mark.parametrize("who", WHO)
def test_applicant_routes_matrix(client, login_as, users, db, draft, method, route, who):
    dossier, att = draft
    as_user(client, login_as, users, who)
    url = route.format(id=dossier.id, att=att)
    token_page = "/compte/connexion" if who == "anonymous" else "/"
    response = client.get(url) if method == "GET" else client.post(url, data={}, csrf_from=token_page)
    assert response.status_code in EXPECTED_APPLICANT[who], (who, url, response.status_code)
    if who == "anonymous":
        assert "/compte/connexion" in response.headers["Location"]


@pytest.mark.parametrize("who", WHO)
def test_draft_files_are_private_to_the_structure(client, login_as, users, draft, who):
    dossier, att = draft
    as_user(client, login_as, users, who)
    response = client.get(f"/dossiers/{dossier.id}/pieces/{att}")
    expected = {"owner": 200, "anonymous": 302}.get(who, 404)
    assert response.status_code == expected


@pytest.mark.parametrize("who", WHO)
def test_submitted_files_for_owner_and_state_staff(client, app, login_as, users, draft, who):
    dossier, att = draft
    login_as(users["applicant"])
    assert submit(client, dossier.id).status_code == 302
    client.post("/compte/deconnexion", csrf_from="/")
    as_user(client, login_as, users, who)
    expected = {"owner": 200, "officer": 200, "admin": 200, "anonymous": 302}.get(who, 404)
    for url in (f"/dossiers/{dossier.id}/pieces/{att}", f"/dossiers/{dossier.id}/versions/1/accuse-reception.pdf"):
        assert client.get(url).status_code == expected, (who, url)


def test_attachment_of_another_dossier_is_not_reachable_through_mine(client, login_as, users, make_dossier):
    mine = make_dossier(users["applicant"], sections=(), attachments=True)
    theirs = make_dossier(users["other_applicant"], sections=(), attachments=True)
    login_as(users["applicant"])
    foreign = theirs.current_attachments[0].id
    assert client.get(f"/dossiers/{mine.id}/pieces/{foreign}").status_code == 404
    assert client.post(f"/porteur/dossiers/{mine.id}/pieces/{foreign}/retirer", csrf_from="/").status_code == 404
