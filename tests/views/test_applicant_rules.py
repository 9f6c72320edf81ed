"""Applicant journey rules (issue 4): submission refusals, the deadline countdown, removing
a pièce, and the QPV search by code."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from grants.models import AuditEntry, Dossier, DossierState, User
from grants.operations import dossiers as ops
from tests.conftest import COMPLETE_CONTENT
from tests.views.test_applicant import submit, version_of


def save(app, db, dossier: Dossier, user: User, key: str, content: dict) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        stored = db.session.get(Dossier, dossier.id)
        ops.save_section(stored, key, content, db.session.get(User, user.id), stored.version)
        db.session.commit()


def plain(page: str) -> str:
    """French number spaces (narrow no-break, no-break) as plain spaces, apostrophes unescaped."""
    return page.replace("\u202f", " ").replace("\xa0", " ").replace("&#39;", "'")


def post_submission(client, dossier: Dossier, version: int):  # type: ignore[no-untyped-def]
    """The submit button, as it would be sent with the dossier's current version."""
    url = f"/porteur/dossiers/{dossier.id}/deposer"
    return client.post(url, data={"version": str(version)}, csrf_from=url)


def assert_still_a_draft(db, dossier: Dossier, content: dict) -> None:  # type: ignore[no-untyped-def]
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert stored.state is DossierState.draft and stored.reference is None and stored.submitted_at is None
    assert stored.versions == []
    assert stored.content == content  # untouched
    submitted = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "dossier.submitted")
    assert db.session.scalar(submitted) == 0


# Submission refusals ------------------------------------------------------------------------


def test_submission_refused_while_an_error_finding_remains(app, client, db, login_as, users, make_dossier):
    user = users["applicant"]
    dossier = make_dossier(user)
    # Six months of one post: 21 000 € + 40 % = 29 400 € of reinforcement, below the base
    # socle of 1 600 € × 40 % × 120 young people = 76 800 €.
    resources = copy.deepcopy(COMPLETE_CONTENT["resources"])
    resources["reperage"]["posts"][0]["months"] = 6
    save(app, db, dossier, user, "resources", resources)
    stored = db.session.get(Dossier, dossier.id)
    content, version = stored.content, stored.version

    login_as(user)
    page = plain(client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True))
    assert "Repérage : le renforcé (29 400,00 €) doit être au moins égal à la base socle (76 800,00 €)" in page
    response = post_submission(client, dossier, version)
    assert response.status_code == 302
    message = plain(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Le dossier est incomplet" in message
    assert "doit être au moins égal à la base socle" in message
    assert_still_a_draft(db, dossier, content)


def test_submission_refused_without_the_sworn_statement(app, client, db, login_as, users, make_dossier):
    user = users["applicant"]
    dossier = make_dossier(user)
    save(app, db, dossier, user, "declaration", COMPLETE_CONTENT["declaration"] | {"sworn": False})
    stored = db.session.get(Dossier, dossier.id)
    content, version = stored.content, stored.version

    login_as(user)
    response = post_submission(client, dossier, version)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True).replace("&#39;", "'")
    assert "Attestation sur l'honneur non cochée." in page
    assert_still_a_draft(db, dossier, content)


# Deadline countdown on the applicant's home page ----------------------------------------------


@pytest.mark.parametrize(
    ("left", "badge"),
    [(timedelta(days=12, hours=3), "Clôture dans 12 jours"), (timedelta(days=1, hours=2), "Clôture dans 1 jour"),
     (timedelta(hours=5), "Clôture aujourd'hui")],
)
def test_home_shows_the_deadline_countdown_in_days(client, login_as, users, make_call, left, badge):
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    make_call(title="Appel avec compte à rebours", opens_at=now - timedelta(days=20), closes_at=now + left)
    with time_machine.travel(now, tick=False):
        login_as(users["applicant"])
        page = client.get("/").get_data(as_text=True).replace("&#39;", "'")
    assert "Appel avec compte à rebours" in page
    assert badge in page
    assert "Date limite de dépôt :" in page


# Removing a pièce ---------------------------------------------------------------------------------


def test_removing_an_attachment_in_draft(client, db, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"])
    attachment = dossier.current_attachments[0]
    login_as(users["applicant"])
    url = f"/porteur/dossiers/{dossier.id}/pieces"
    response = client.post(f"{url}/{attachment.id}/retirer", csrf_from=url)
    assert response.status_code == 302 and response.headers["Location"] == url
    assert f"Pièce « {attachment.display_name} » retirée du dossier." in client.get(url).get_data(as_text=True)
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert attachment.id not in [a.id for a in stored.current_attachments]
    assert next(a for a in stored.attachments if a.id == attachment.id).removed_at is not None  # kept, marked
    # The missing pièce now blocks the submission.
    assert any("Pièce manquante" in item for item in ops_missing(stored))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.remove_attachment"))
    assert entry.actor_id == users["applicant"].id and entry.details["name"] == attachment.display_name


def ops_missing(dossier: Dossier) -> list[str]:
    from grants.dossier_sections import missing_items

    return missing_items(dossier)["attachments"]


def test_removing_an_attachment_is_refused_after_submission(client, db, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"])
    attachment = dossier.current_attachments[0]
    login_as(users["applicant"])
    assert submit(client, dossier.id).status_code == 302
    response = client.post(f"/porteur/dossiers/{dossier.id}/pieces/{attachment.id}/retirer",
                           csrf_from=f"/porteur/dossiers/{dossier.id}")
    assert response.status_code == 403
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert stored.state is DossierState.submitted
    assert attachment.id in [a.id for a in stored.current_attachments]
    assert "retirer" not in client.get(f"/porteur/dossiers/{dossier.id}/pieces").get_data(as_text=True)


# QPV search ---------------------------------------------------------------------------------------

OPTION = re.compile(r'<div class="fr-fieldset__element qpv-option" data-search="([^"]*)"( hidden)?>')


def visible_qpvs(page: str) -> list[str]:
    return [label for label, hidden in OPTION.findall(page) if not hidden]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("QN08001M", ["Amiens"]), ("qn05901m", ["Lille"]), ("QN080", ["Amiens"]),  # by code, any case
     ("amiens", ["Amiens"]), ("Quartier test Lille", ["Lille"]),  # by commune, by name
     ("", ["Lille", "Amiens"]), ("QN99999Z", [])],
)
def test_qpv_search_by_code_name_or_commune(client, login_as, users, make_dossier, query, expected):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/territories", query_string={"q": query})
    visible = visible_qpvs(page.get_data(as_text=True))
    assert len(OPTION.findall(page.get_data(as_text=True))) == 2  # every option stays in the page
    assert len(visible) == len(expected)
    assert all(any(f"quartier test {town.lower()}" in label for label in visible) for town in expected)


def test_a_qpv_found_by_code_can_be_picked(client, db, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/territories?q=QN08001M").get_data(as_text=True)
    [label] = visible_qpvs(page)
    assert "qn08001m" in label and "amiens" in label
    response = client.post(f"/porteur/dossiers/{dossier.id}/sections/territories",
                           data={"version": version_of(page), "qpv_codes": ["QN08001M"]})
    assert response.status_code == 302
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).content["territories"] == {"qpv_codes": ["QN08001M"]}
