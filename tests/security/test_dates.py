"""Issue 14, item 4: every date a user types is bounded where it is typed, with a French
message next to the field, and no stored date can crash a document.

Before: a project ending 9999-12-31 was accepted, then its fiche de synthèse and adding
the dossier to a session's agenda answered 500, so the dossier could never be decided."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from grants.formatting import PARIS
from grants.models import Call, CommitteeSession, ComplementRequest, Decision, Dossier, User
from grants.operations import committee as committee_ops
from tests import conftest
from tests.operations.test_committee import instructed, session_with  # noqa: F401  (fixtures)
from tests.views.test_applicant import version_of


def errors_of(page: str) -> str:
    return page.replace("&#39;", "'")


# Where dates are typed -----------------------------------------------------------------------


@pytest.fixture
def project_form(client, login_as, users, make_dossier, make_call):  # type: ignore[no-untyped-def]
    """Post the project section of a draft of a call open from 01/12/2026 to 31/03/2027 (Paris)."""
    call = make_call(opens_at=datetime(2026, 11, 30, 23, tzinfo=UTC), closes_at=datetime(2027, 3, 31, 21, 59, tzinfo=UTC))
    dossier = make_dossier(users["applicant"], call=call, sections=(), attachments=False)
    login_as(users["applicant"])
    url = f"/porteur/dossiers/{dossier.id}/sections/project"

    def post(start: str, end: str):  # type: ignore[no-untyped-def]
        page = client.get(url).get_data(as_text=True)
        return client.post(url, data={"version": version_of(page), "title": "Projet", "summary": "Résumé",
                                      "start_date": start, "end_date": end})

    post.dossier_id = dossier.id  # type: ignore[attr-defined]
    return post


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2027-01-01", "9999-12-31", "de 12 à 36 mois"),
    ("9998-01-01", "9999-12-31", "commencer au plus tard le 31/03/2029, 24 mois après la clôture"),
    ("1900-01-01", "1901-12-31", "commencer au plus tôt le 01/12/2023"),
    ("2024-01-01", "2025-12-31", "la fin doit être postérieure au 01/12/2026, date d'ouverture de l'appel"),
])
def test_the_operation_period_is_bounded_by_the_call(db, project_form, start, end, message):
    response = project_form(start, end)
    page = errors_of(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in page
    assert f'value="{start}"' in page and f'value="{end}"' in page  # what was typed is kept
    assert 'class="fr-error-summary' in page or "fr-alert--error" in page or "fr-error-text" in page
    db.session.remove()
    assert "project" not in db.session.get(Dossier, project_form.dossier_id).content


def test_a_period_within_the_call_is_saved(db, project_form):
    assert project_form("2027-05-01", "2029-04-30").status_code == 302
    db.session.remove()
    assert db.session.get(Dossier, project_form.dossier_id).content["project"]["end_date"] == "2029-04-30"


@pytest.fixture
def complements(client, login_as, users, make_submitted):  # type: ignore[no-untyped-def]
    dossier = make_submitted(users["applicant"])
    login_as(users["officer"])
    base = f"/instruction/dossiers/{dossier.id}"

    def post(due: str):  # type: ignore[no-untyped-def]
        return client.post(f"{base}/complements", data={"sections": ["project"], "message": "Précisez.",
                                                         "due_date": due}, csrf_from=base)

    post.dossier_id = dossier.id  # type: ignore[attr-defined]
    return post


@pytest.mark.parametrize("due", ["9999-12-31", "+93", "-1", "+0"])
def test_a_complement_due_date_is_within_three_months(db, complements, due):
    today = datetime.now(PARIS).date()
    typed = due if "-" in due[1:] else (today + timedelta(days=int(due))).isoformat()
    response = complements(typed)
    page = errors_of(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "L'échéance doit être" in page
    assert re.search(r'id="due_date"[^>]*value="' + typed, page) or f'value="{typed}"' in page
    db.session.remove()
    assert db.session.get(Dossier, complements.dossier_id).open_complement_request is None


def test_a_complement_due_date_in_three_months_is_accepted(db, complements):
    due = datetime.now(PARIS).date() + timedelta(days=ComplementRequest.MAX_DELAY_DAYS)
    assert complements(due.isoformat()).status_code == 302


@pytest.mark.parametrize(("when", "message"), [
    ("9999-12-31T10:00", "L'année doit être comprise entre 2000 et 2100"),
    ("2001-01-01T10:00", "La séance doit se tenir entre l'ouverture de l'appel"),
    ("+1200", "3 ans après sa clôture"),
])
def test_a_committee_session_meets_while_the_call_can_have_one(client, db, login_as, users, make_call, when,
                                                                message):
    call = make_call()
    login_as(users["officer"])
    if when.startswith("+"):
        when = (call.closes_at + timedelta(days=int(when))).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
    url = f"/comite/appels/{call.id}/seances/nouvelle"
    response = client.post(url, data={"meets_at": when, "place": "Lille", "chair_name": "Le Préfet",
                                      "chair_quality": "Préfet de région"})
    page = errors_of(response.get_data(as_text=True))
    assert response.status_code in (200, 422) and message in page
    assert db.session.query(CommitteeSession).filter_by(call_id=call.id).count() == 0


@pytest.mark.parametrize(("opens", "closes", "message"), [
    ("2026-11-25T00:00", "9999-12-31T23:59", "L'année doit être comprise entre 2000 et 2100"),
    ("2026-11-25T00:00", "2031-11-25T00:00", "Un appel reste ouvert au plus 3 ans"),
])
def test_a_calls_calendar_is_bounded(client, login_admin, make_qpv_list, opens, closes, message):
    from tests.views.test_admin import call_form

    login_admin()
    response = client.post("/admin/appels/nouveau", data=call_form(make_qpv_list().id, opens_at=opens, closes_at=closes))
    assert response.status_code == 200
    assert message in errors_of(response.get_data(as_text=True))


# No stored date crashes a document ---------------------------------------------------------------


@pytest.fixture
def stored_before_the_fix(monkeypatch, db):  # type: ignore[no-untyped-def]
    """Dossiers built by the factories carry a period typed before the bounds existed: drafts
    from their content; ``submitted(dossier)`` writes it into the stored versions too (a dossier
    submitted before the period was checked at submission)."""
    chosen: dict[str, str] = {}

    def period(start: str, end: str) -> None:
        chosen.update(start_date=start, end_date=end)
        monkeypatch.setitem(conftest.COMPLETE_CONTENT, "project", {**conftest.COMPLETE_CONTENT["project"], **chosen})

    def submitted(dossier: Dossier) -> None:
        for version in dossier.versions:
            content = dict(version.snapshot["content"])
            content["project"] = {**content["project"], **chosen}
            version.snapshot = {**version.snapshot, "content": content}
        dossier.content = {**dossier.content, "project": {**dossier.content["project"], **chosen}}
        db.session.commit()

    period.submitted = submitted  # type: ignore[attr-defined]
    return period


@pytest.mark.parametrize("period", [("2027-01-01", "9999-12-31"), ("9999-01-01", "9999-12-31"),
                                    ("0001-01-01", "0001-12-31"), ("2027-02-30", "n'importe quoi")])
def test_a_dossier_stored_with_any_period_gets_its_fiche_and_is_decided(
    app, client, db, login_as, users, instructed, store, stored_before_the_fix, period  # noqa: F811
):
    dossier = instructed()
    stored_before_the_fix(*period)
    stored_before_the_fix.submitted(dossier)
    login_as(users["officer"])
    for page in (f"/instruction/dossiers/{dossier.id}", f"/instruction/dossiers/{dossier.id}/versions/1"):
        assert client.get(page).status_code == 200, page
    fiche = client.get(f"/instruction/dossiers/{dossier.id}/fiche-synthese.pdf")
    assert fiche.status_code == 200 and fiche.data.startswith(b"%PDF")
    # On a session's agenda (the fiche is rendered then), decided, the session closed: letter and minutes.
    new = f"/comite/appels/{instructed.call.id}/seances/nouvelle"
    created = client.post(new, data={
        # Yesterday: a session is held from its date on.
        "meets_at": (datetime.now(UTC) - timedelta(days=1)).astimezone(PARIS).strftime("%Y-%m-%dT10:00"),
        "place": "Lille", "chair_name": "Le Préfet", "chair_quality": "Préfet de région",
        "members": [str(users["committee"].id)]})
    assert created.status_code == 302, errors_of(created.get_data(as_text=True))[-1500:]
    session_url = created.headers["Location"]
    assert client.post(f"{session_url}/ordre-du-jour", data={"dossier_id": str(dossier.id)},
                       csrf_from=session_url).status_code == 302
    session_id = int(session_url.rsplit("/", 1)[1])
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        officer = db.session.get(User, users["officer"].id)
        committee_ops.mark_held(session, officer)
        committee_ops.record_decision(session.items[0], Decision.selected, officer, amount=Decimal("1000.00"))
        committee_ops.close_session(session, officer, store=store)
        db.session.commit()
    assert client.get(f"{session_url}/dossier-du-comite.pdf").data.startswith(b"%PDF")
    assert client.get(f"/dossiers/{dossier.id}/notification.pdf").data.startswith(b"%PDF")
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["applicant"])
    assert client.get(f"/porteur/dossiers/{dossier.id}").status_code == 200


def test_a_draft_stored_with_a_broken_date_can_be_edited(client, db, login_as, users, make_dossier,
                                                         stored_before_the_fix):
    stored_before_the_fix("2027-02-30", "9999-12-31")
    dossier = make_dossier(users["applicant"])
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/project")
    assert page.status_code == 200
    assert client.get(f"/porteur/dossiers/{dossier.id}").status_code == 200


def test_the_bounds_use_the_calls_paris_dates(db, make_call):
    from grants.forms.dossier import operation_window

    call = make_call(opens_at=datetime(2022, 11, 24, 23, tzinfo=UTC), closes_at=datetime(2023, 3, 26, 21, 59, tzinfo=UTC))
    assert operation_window(db.session.get(Call, call.id)) == (date(2019, 11, 25), date(2025, 3, 26), date(2022, 11, 25))
