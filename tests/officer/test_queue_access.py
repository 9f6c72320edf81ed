"""Who reaches the queue, its exports and the assignment: DREETS staff only."""

from __future__ import annotations

import pytest

from grants.models import Dossier, DossierState

from .queue_factories import add_dossiers

MATRIX = [
    ("anonymous", "login"), ("applicant", 403), ("committee", 404), ("officer", 200), ("admin", 200),
]


@pytest.fixture
def queued(db, make_call):
    call = make_call()
    [dossier_id] = add_dossiers(db, call, 1, states=(DossierState.submitted,))
    return db.session.get(Dossier, dossier_id)


def check(response, expected) -> None:  # noqa: ANN001
    if expected == "login":
        assert response.status_code == 302
        assert "/compte/connexion" in response.headers["Location"]
    else:
        assert response.status_code == expected
        if expected == 403:
            assert "Accès refusé" in response.get_data(as_text=True)
    response.close()


@pytest.mark.parametrize("suffix", ["", ".csv", ".xlsx"])
@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_queue_and_exports_matrix(client, login_as, users, queued, suffix, who, expected):
    if who != "anonymous":
        login_as(users[who])
    check(client.get(f"/instruction/appels/{queued.call_id}/dossiers{suffix}"), expected)


@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_assign_matrix(client, login_as, users, db, queued, who, expected):
    if who != "anonymous":
        login_as(users[who])
    response = client.post(
        f"/instruction/dossiers/{queued.id}/attribution", data={"assignee": str(users["officer"].id)},
        csrf_from="/compte/connexion" if who == "anonymous" else "/",
    )
    if expected == 200:
        # Staff: done, back to the queue (POST/redirect/GET).
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/instruction/appels/{queued.call_id}/dossiers")
        assert db.session.get(Dossier, queued.id).assigned_to_id == users["officer"].id
    else:
        check(response, expected)
        assert db.session.get(Dossier, queued.id).assigned_to_id is None


def test_every_queue_route_requires_staff(app):
    from grants.models import Role

    for endpoint in ("officer.show_queue", "officer.assign_dossier", "officer.export_queue_csv",
                     "officer.export_queue_xlsx"):
        assert app.view_functions[endpoint].required_roles == frozenset({Role.officer, Role.admin})
