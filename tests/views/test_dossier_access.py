"""Object-level access to dossiers: every dossier route × every kind of user.

Kinds of route (docs/lifecycle.md):
- applicant pages: only the owner's structure; staff get 403 from the role check, another
  applicant and a committee member 404 (the id must not reveal that the dossier exists);
- files and messages shared by the structure and DREETS staff: the structure only while
  the dossier is a draft, then its staff too;
- officer pages: DREETS staff (officers and admins) only.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from grants.models import AdmissibilityOutcome, Dossier, User
from grants.operations import messages as message_ops
from grants.operations import review as review_ops
from grants.operations.dossiers import submit_dossier
from tests.conftest import SAMPLE_PDF
from tests.views.test_applicant import submit

# The owner comes last: their POSTs may change the dossier (submit, withdraw…).
WHO = ["anonymous", "other_applicant", "officer", "committee", "admin", "owner"]
OK = "ok"  # reached: a page, a file, a redirect after the action, or a form error (never 403/404)
LOGIN = "login"
EXPECTED = {
    "applicant": {"owner": OK, "other_applicant": 404, "officer": 403, "committee": 404, "admin": 403,
                  "anonymous": LOGIN},
    "shared_draft": {"owner": OK, "other_applicant": 404, "officer": 404, "committee": 404, "admin": 404,
                     "anonymous": LOGIN},
    "shared": {"owner": OK, "other_applicant": 404, "officer": OK, "committee": 404, "admin": OK,
               "anonymous": LOGIN},
    "staff": {"owner": 403, "other_applicant": 403, "officer": OK, "committee": 404, "admin": OK,
              "anonymous": LOGIN},
}

# (endpoint, method, URL, state of the dossier, kind). {att}: one of its pièces, {msg}: a
# message with a file.
ROUTES = [
    ("applicant.show_dossier", "GET", "/porteur/dossiers/{id}", "draft", "applicant"),
    ("applicant.edit_section", "GET", "/porteur/dossiers/{id}/sections/project", "draft", "applicant"),
    ("applicant.edit_section", "POST", "/porteur/dossiers/{id}/sections/project", "draft", "applicant"),
    ("applicant.attachments", "GET", "/porteur/dossiers/{id}/pieces", "draft", "applicant"),
    ("applicant.attachments", "POST", "/porteur/dossiers/{id}/pieces", "draft", "applicant"),
    ("applicant.remove_attachment", "POST", "/porteur/dossiers/{id}/pieces/{att}/retirer", "draft", "applicant"),
    ("applicant.submit_dossier", "GET", "/porteur/dossiers/{id}/deposer", "draft", "applicant"),
    ("applicant.submit_dossier", "POST", "/porteur/dossiers/{id}/deposer", "draft", "applicant"),
    ("applicant.withdraw_dossier", "GET", "/porteur/dossiers/{id}/retirer", "draft", "applicant"),
    ("applicant.withdraw_dossier", "POST", "/porteur/dossiers/{id}/retirer", "draft", "applicant"),
    ("applicant.answer_complements", "POST", "/porteur/dossiers/{id}/complements", "complements", "applicant"),
    ("applicant.download_summary", "GET", "/porteur/dossiers/{id}/recapitulatif.pdf", "draft", "applicant"),
    ("applicant.download_summary", "GET", "/porteur/dossiers/{id}/recapitulatif.pdf", "submitted", "applicant"),
    ("dossiers.download_attachment", "GET", "/dossiers/{id}/pieces/{att}", "draft", "shared_draft"),
    ("dossiers.preview_attachment", "GET", "/dossiers/{id}/pieces/{att}/apercu", "draft", "shared_draft"),
    ("dossiers.download_attachment", "GET", "/dossiers/{id}/pieces/{att}", "submitted", "shared"),
    ("dossiers.preview_attachment", "GET", "/dossiers/{id}/pieces/{att}/apercu", "submitted", "shared"),
    ("dossiers.download_receipt", "GET", "/dossiers/{id}/versions/1/accuse-reception.pdf", "submitted", "shared"),
    ("dossiers.download_letter", "GET", "/dossiers/{id}/notification.pdf", "inadmissible", "shared"),
    ("dossiers.messages", "GET", "/dossiers/{id}/messages", "submitted", "shared"),
    ("dossiers.messages", "POST", "/dossiers/{id}/messages", "submitted", "shared"),
    ("dossiers.message_attachment", "GET", "/dossiers/{id}/messages/{msg}/piece", "submitted", "shared"),
    ("officer.show_dossier", "GET", "/instruction/dossiers/{id}", "submitted", "staff"),
    ("officer.show_version", "GET", "/instruction/dossiers/{id}/versions/1", "submitted", "staff"),
    ("officer.compare_versions", "GET", "/instruction/dossiers/{id}/versions/comparaison", "completed", "staff"),
    ("officer.download_fiche", "GET", "/instruction/dossiers/{id}/fiche-synthese.pdf", "submitted", "staff"),
    ("officer.save_admissibility", "POST", "/instruction/dossiers/{id}/recevabilite", "submitted", "staff"),
    ("officer.request_complements", "POST", "/instruction/dossiers/{id}/complements", "submitted", "staff"),
    ("officer.reopen_dossier", "POST", "/instruction/dossiers/{id}/reouvrir", "inadmissible", "staff"),
    ("officer.instruct", "GET", "/instruction/dossiers/{id}/instruction", "admissible", "staff"),
    ("officer.instruct", "POST", "/instruction/dossiers/{id}/instruction", "admissible", "staff"),
    ("officer.assign_dossier", "POST", "/instruction/dossiers/{id}/attribution", "submitted", "staff"),
]


@pytest.fixture
def owner(db, users):  # type: ignore[no-untyped-def]
    return users["applicant"]


@pytest.fixture
def draft(owner, make_dossier):  # type: ignore[no-untyped-def]
    return make_dossier(owner)


@pytest.fixture
def submitted(app, db, owner, make_dossier, store):  # type: ignore[no-untyped-def]
    """Submitted through the operation (receipt n° 1), with a message carrying a file."""
    dossier = make_dossier(owner)
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        actor = db.session.get(User, owner.id)
        submit_dossier(dossier, actor, store=store, expected_version=dossier.version)
        message_ops.post_message(dossier, actor, "Une précision.", ("precision.pdf", SAMPLE_PDF), store=store,
                                 max_bytes=10 * 1024 * 1024)
        db.session.commit()
    return dossier


def _officer(db, users):  # type: ignore[no-untyped-def]
    return db.session.get(User, users["officer"].id)


@pytest.fixture
def complements(app, db, users, submitted):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        review_ops.request_complements(dossier, sections=["project"], attachment_types=[], message="Précisez.",
                                       due_date=date.today() + timedelta(days=10), actor=_officer(db, users))
        db.session.commit()
    return submitted


@pytest.fixture
def completed(app, db, owner, complements, store):  # type: ignore[no-untyped-def]
    """Complements answered: two versions to compare."""
    with app.test_request_context():
        dossier = db.session.get(Dossier, complements.id)
        review_ops.answer_complements(dossier, db.session.get(User, owner.id), store=store)
        db.session.commit()
    return complements


@pytest.fixture
def inadmissible(app, db, users, submitted, store):  # type: ignore[no-untyped-def]
    """Declared inadmissible: its notification letter exists."""
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        officer = _officer(db, users)
        checklist = review_ops.get_review(dossier)
        review_ops.save_checklist(checklist, {"signatory": {"value": "fail", "comment": "Pas de délégation."}},
                                  officer, None)
        review_ops.record_admissibility(checklist, AdmissibilityOutcome.inadmissible, "Signataire non habilité.",
                                        officer, store=store)
        db.session.commit()
    return submitted


@pytest.fixture
def admissible(app, db, users, submitted):  # type: ignore[no-untyped-def]
    """Every admissibility criterion met: the dossier is open to instruction."""
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        officer = _officer(db, users)
        checklist = review_ops.get_review(dossier)
        answers = {c["code"]: {"value": "pass", "comment": "Vérifié."} for c in dossier.call.admissibility_criteria}
        review_ops.save_checklist(checklist, answers, officer, None)
        review_ops.record_admissibility(checklist, AdmissibilityOutcome.admissible, "", officer)
        db.session.commit()
    return submitted


def as_user(client, login_as, users, who):  # type: ignore[no-untyped-def]
    client.post("/compte/deconnexion", csrf_from="/compte/connexion")  # each user on a fresh session
    if who == "owner":
        login_as(users["applicant"])
    elif who != "anonymous":
        login_as(users[who])


def check(response, expected, label) -> None:  # type: ignore[no-untyped-def]
    code, location = response.status_code, response.headers.get("Location", "")
    if expected == LOGIN:
        assert code == 302 and "/compte/connexion" in location, (label, code, location)
    elif expected == OK:
        assert code in (200, 302, 409, 422), (label, code)
        assert "/compte/" not in location, (label, location)  # neither the login nor a waiting page
    else:
        assert code == expected, (label, code)


@pytest.mark.parametrize(("endpoint", "method", "route", "state", "kind"), ROUTES,
                         ids=[f"{m} {r.replace('{id}', 'id')} ({s})" for _e, m, r, s, _k in ROUTES])
def test_dossier_routes_matrix(client, db, login_as, users, request, endpoint, method, route, state, kind):
    dossier = request.getfixturevalue(state)
    dossier = db.session.get(Dossier, dossier.id)
    message = next((m for m in dossier.messages if m.attachment_file), None)
    url = route.format(id=dossier.id, att=dossier.current_attachments[0].id, msg=message.id if message else 0)
    for who in WHO:
        as_user(client, login_as, users, who)
        token_page = "/compte/connexion" if who == "anonymous" else "/compte/mot-de-passe"
        response = client.get(url) if method == "GET" else client.post(url, data={}, csrf_from=token_page)
        check(response, EXPECTED[kind][who], (who, method, url))


def test_the_matrix_covers_every_dossier_route(app):
    """A new route taking a dossier id must be added to ROUTES (and so to the matrix)."""
    covered = {(endpoint, method) for endpoint, method, *_ in ROUTES}
    missing = [
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules() if "dossier_id" in rule.arguments
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) if (rule.endpoint, method) not in covered
    ]
    assert missing == []


def test_attachment_of_another_dossier_is_not_reachable_through_mine(client, login_as, users, make_dossier):
    mine = make_dossier(users["applicant"], sections=(), attachments=True)
    theirs = make_dossier(users["other_applicant"], sections=(), attachments=True)
    login_as(users["applicant"])
    foreign = theirs.current_attachments[0].id
    assert client.get(f"/dossiers/{mine.id}/pieces/{foreign}").status_code == 404
    assert client.get(f"/dossiers/{mine.id}/pieces/{foreign}/apercu").status_code == 404
    assert client.post(f"/porteur/dossiers/{mine.id}/pieces/{foreign}/retirer", csrf_from="/").status_code == 404


def test_submitting_over_http_then_staff_read_the_files(client, login_as, users, draft):
    """The web submission (not only the operation) opens the files to DREETS staff."""
    login_as(users["applicant"])
    assert submit(client, draft.id).status_code == 302
    as_user(client, login_as, users, "officer")
    att = draft.current_attachments[0].id
    for url in (f"/dossiers/{draft.id}/pieces/{att}", f"/dossiers/{draft.id}/versions/1/accuse-reception.pdf"):
        assert client.get(url).status_code == 200, url
