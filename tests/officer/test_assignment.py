"""Assigning a dossier to a DREETS officer: the operation and the queue's form."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from grants.models import AuditEntry, Dossier, DossierState, Role, User
from grants.operations.assignment import AssignmentError, assign_dossier

from .queue_factories import add_dossiers, submitted_dossier  # noqa: F401


def audit_of(db, dossier_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_id == dossier_id, AuditEntry.action == "dossier.assign")
        .order_by(AuditEntry.id)
    ))


@pytest.fixture
def queued(db, make_call):
    call = make_call()
    [dossier_id] = add_dossiers(db, call, 1, states=(DossierState.submitted,))
    return db.session.get(Dossier, dossier_id)


# The operation ---------------------------------------------------------------------------


def test_assign_flushes_audits_and_keeps_the_version(app, db, users, queued, monkeypatch):
    officer, admin = (db.session.get(User, users[k].id) for k in ("officer", "admin"))
    version, updated_at = queued.version, queued.updated_at

    def no_commit() -> None:
        raise AssertionError("an operation never commits")

    with app.test_request_context():
        monkeypatch.setattr(db.session, "commit", no_commit)
        assert assign_dossier(queued, officer, admin) is True
        monkeypatch.undo()
        assert queued.assigned_to_id == officer.id and queued.assigned_to is officer
        db.session.commit()  # the view's commit
    db.session.expire_all()
    reloaded = db.session.get(Dossier, queued.id)
    assert reloaded.assigned_to_id == officer.id
    # Not an edit of the dossier: no false "modified meanwhile" for the applicant.
    assert (reloaded.version, reloaded.updated_at) == (version, updated_at)
    [entry] = audit_of(db, queued.id)
    assert entry.actor_id == admin.id and entry.object_type == "Dossier"
    assert entry.details == {"from_id": None, "from_name": None, "to_id": officer.id, "to_name": officer.full_name}


def test_reassign_then_unassign(app, db, users, queued):
    officer, admin = (db.session.get(User, users[k].id) for k in ("officer", "admin"))
    with app.test_request_context():
        assign_dossier(queued, officer, officer)
        assert assign_dossier(queued, officer, admin) is False  # nothing changes, nothing logged
        assign_dossier(queued, admin, officer)
        assign_dossier(queued, None, officer)
        db.session.commit()
    assert db.session.get(Dossier, queued.id).assigned_to_id is None
    entries = audit_of(db, queued.id)
    assert [(e.details["from_id"], e.details["to_id"]) for e in entries] == [
        (None, officer.id), (officer.id, admin.id), (admin.id, None),
    ]


@pytest.mark.parametrize("role", [Role.applicant, Role.committee])
def test_only_staff_can_be_assigned(app, db, users, queued, role):
    other = users["applicant" if role is Role.applicant else "committee"]
    with app.test_request_context(), pytest.raises(AssignmentError, match="agent actif"):
        assign_dossier(queued, db.session.get(User, other.id), db.session.get(User, users["officer"].id))


def test_inactive_staff_cannot_be_assigned(app, db, users, queued, make_user):
    gone = make_user(Role.officer, is_active=False)
    with app.test_request_context(), pytest.raises(AssignmentError):
        assign_dossier(queued, db.session.get(User, gone.id), db.session.get(User, users["officer"].id))


def test_only_staff_can_assign(app, db, users, queued):
    with app.test_request_context(), pytest.raises(AssignmentError):
        assign_dossier(queued, db.session.get(User, users["officer"].id), db.session.get(User, users["committee"].id))


def test_a_draft_cannot_be_assigned(app, db, users, make_dossier):
    draft = make_dossier(users["applicant"])
    with app.test_request_context(), pytest.raises(AssignmentError, match="non déposé"):
        assign_dossier(db.session.get(Dossier, draft.id), db.session.get(User, users["officer"].id),
                       db.session.get(User, users["officer"].id))


# The form in the queue ----------------------------------------------------------------------


def test_queue_offers_staff_only_and_marks_me(client, login_as, users, queued):
    login_as(users["officer"])
    page = client.get(f"/instruction/appels/{queued.call_id}/dossiers").get_data(as_text=True)
    assert f'<option value="{users["officer"].id}">{users["officer"].full_name} (moi)</option>' in page
    assert f'<option value="{users["admin"].id}">{users["admin"].full_name}</option>' in page
    for other in ("applicant", "committee"):
        assert f'<option value="{users[other].id}">' not in page
    assert f'<label class="fr-label fr-sr-only" for="assignee-{queued.id}">' in page


def test_assign_from_the_queue_keeps_the_filters(client, login_as, users, db, queued):
    login_as(users["officer"])
    queue = f"/instruction/appels/{queued.call_id}/dossiers"
    response = client.post(
        f"/instruction/dossiers/{queued.id}/attribution?state=submitted&q=Structure&sort=assignee&order=desc&bogus=1",
        data={"assignee": str(users["admin"].id)}, csrf_from=queue,
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == queue
    assert parse_qs(location.query) == {"state": ["submitted"], "q": ["Structure"], "sort": ["assignee"], "order": ["desc"]}
    assert db.session.get(Dossier, queued.id).assigned_to_id == users["admin"].id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"est attribué à {users['admin'].full_name}" in page
    assert f'<option value="{users["admin"].id}" selected>' in page
    assert len(audit_of(db, queued.id)) == 1


def test_assign_to_me_then_filter_mine(client, login_as, users, db, make_call):
    call = make_call()
    first, second = add_dossiers(db, call, 2, states=(DossierState.admissible,))
    login_as(users["officer"])
    queue = f"/instruction/appels/{call.id}/dossiers"
    client.post(f"/instruction/dossiers/{second}/attribution", data={"assignee": str(users["officer"].id)}, csrf_from=queue)
    page = client.get(queue + "?mine=y").get_data(as_text=True)
    body = page.split("<tbody>")[1]
    assert db.session.get(Dossier, second).reference in body
    assert db.session.get(Dossier, first).reference not in body


def test_unassign_from_the_queue(client, login_as, users, db, make_call):
    call = make_call()
    [dossier_id] = add_dossiers(db, call, 1, assigned_to=users["officer"])
    login_as(users["admin"])
    response = client.post(f"/instruction/dossiers/{dossier_id}/attribution", data={"assignee": ""},
                           csrf_from=f"/instruction/appels/{call.id}/dossiers")
    assert response.status_code == 302
    assert db.session.get(Dossier, dossier_id).assigned_to_id is None


@pytest.mark.parametrize("who", ["applicant", "committee"])
def test_non_staff_assignee_is_refused(client, login_as, users, db, queued, who):
    login_as(users["officer"])
    queue = f"/instruction/appels/{queued.call_id}/dossiers"
    response = client.post(f"/instruction/dossiers/{queued.id}/attribution",
                           data={"assignee": str(users[who].id)}, csrf_from=queue)
    assert response.status_code == 302
    assert db.session.get(Dossier, queued.id).assigned_to_id is None
    assert "Choisissez un agent de la DREETS" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert audit_of(db, queued.id) == []


def test_assigning_a_draft_is_404(client, login_as, users, db, make_dossier):
    draft = make_dossier(users["applicant"])
    login_as(users["officer"])
    response = client.post(f"/instruction/dossiers/{draft.id}/attribution",
                           data={"assignee": str(users["officer"].id)}, csrf_from="/")
    assert response.status_code == 404
    assert db.session.get(Dossier, draft.id).assigned_to_id is None


def test_assigning_an_unknown_dossier_is_404(client, login_as, users):
    login_as(users["officer"])
    response = client.post("/instruction/dossiers/999999/attribution",
                           data={"assignee": str(users["officer"].id)}, csrf_from="/")
    assert response.status_code == 404


def test_assign_without_csrf_token_is_refused(client, login_as, users, db, queued):
    login_as(users["officer"])
    response = client.post(f"/instruction/dossiers/{queued.id}/attribution",
                           data={"assignee": str(users["officer"].id)}, csrf=False)
    assert response.status_code == 400
    assert db.session.get(Dossier, queued.id).assigned_to_id is None


def test_assign_works_on_a_submitted_dossier_from_the_operations(client, login_as, users, db, submitted_dossier):
    dossier = submitted_dossier()
    login_as(users["officer"])
    response = client.post(f"/instruction/dossiers/{dossier.id}/attribution",
                           data={"assignee": str(users["officer"].id)},
                           csrf_from=f"/instruction/appels/{dossier.call_id}/dossiers")
    assert response.status_code == 302
    reloaded = db.session.get(Dossier, dossier.id)
    assert reloaded.assigned_to_id == users["officer"].id and reloaded.version == dossier.version
