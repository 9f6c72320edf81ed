"""The officer's home says what to do: complements received to review, unread messages of the
structures, overdue complement requests, dossiers waiting for admissibility for more than
N days, their own dossiers; the queue says when complements arrived. The home's statements
do not grow with the number of dossiers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import insert, update

from grants.models import ComplementRequest, Dossier, DossierState, Message, Role, User
from grants.operations import assignment, messages
from grants.operations import review as review_ops

from .queue_factories import add_dossiers, submitted_dossier  # noqa: F401  (fixture)
from .test_queue import counting_statements, queue_url
from .test_submitted_figures import queue_row


def work_list(page: str, key: str) -> str:
    """The rows of one list of the home (empty string when the list is not shown)."""
    if f'id="{key}"' not in page:
        return ""
    return page.split(f'id="{key}"', 1)[1].split("</section>", 1)[0]


def counter(page: str, title_start: str) -> int:
    match = re.search(r'<span class="work-counter__value">(\d+)</span> ' + re.escape(title_start), page)
    assert match, title_start
    return int(match.group(1))


def request_complements(app, db, dossier_id: int, officer: User, due: date) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        review_ops.request_complements(db.session.get(Dossier, dossier_id), sections=["project"], attachment_types=[],
                                       message="Précisez le calendrier.", due_date=due,
                                       actor=db.session.get(User, officer.id))
        db.session.commit()


def test_the_home_lists_what_there_is_to_do(app, client, login_as, users, db, make_call, make_user,
                                            submitted_dossier, store):
    call = make_call()
    officer, colleague = users["officer"], make_user(Role.officer)
    answered = submitted_dossier(call=call)
    late = submitted_dossier(user=users["other_applicant"], call=call)
    waiting = submitted_dossier(user=make_user(Role.applicant), call=call)
    colleagues = submitted_dossier(user=make_user(Role.applicant), call=call)
    today = date.today()
    request_complements(app, db, answered.id, officer, today + timedelta(days=10))
    request_complements(app, db, late.id, officer, today + timedelta(days=2))
    with app.test_request_context():
        assignment.assign_dossier(db.session.get(Dossier, answered.id), db.session.get(User, officer.id),
                                  db.session.get(User, officer.id))
        assignment.assign_dossier(db.session.get(Dossier, colleagues.id), db.session.get(User, colleague.id),
                                  db.session.get(User, officer.id))
        db.session.commit()
    # Eighteen days later, the complements of « answered » arrive, with a message.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=18)), app.test_request_context():
        review_ops.answer_complements(db.session.get(Dossier, answered.id), db.session.get(User, users["applicant"].id),
                                      store=store)
        messages.post_message(db.session.get(Dossier, answered.id), db.session.get(User, users["applicant"].id),
                              "Le calendrier est dans la nouvelle version.", None, store=store, max_bytes=1024)
        db.session.commit()
    answered, late, waiting, colleagues = (db.session.get(Dossier, d.id) for d in (answered, late, waiting, colleagues))

    # Twenty days after the submissions: the complements of « late » are overdue, « waiting »
    # has waited, « answered » came back two days ago.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=20)):
        login_as(officer)
        page = client.get("/").get_data(as_text=True)
        everyone = client.get("/?perimetre=tous").get_data(as_text=True)
    received = work_list(page, "complements-recus")
    assert answered.reference in received and late.reference not in received
    assert counter(page, "Compléments reçus à examiner") == 1
    unread = work_list(page, "messages-non-lus")
    assert answered.reference in unread and f'href="/dossiers/{answered.id}/messages">1<' in unread
    overdue = work_list(page, "complements-en-retard")
    assert late.reference in overdue and (today + timedelta(days=2)).strftime("%d/%m/%Y") in overdue
    waited = work_list(page, "recevabilite-en-attente")
    assert "En attente de recevabilité depuis plus de 15 jours" in waited
    assert waiting.reference in waited and answered.reference not in waited  # its complements came back
    assert colleagues.reference not in waited  # a colleague's dossier: in « Tous ceux de la DREETS » only
    assert colleagues.reference in work_list(everyone, "recevabilite-en-attente")
    mine = work_list(page, "mes-dossiers")
    assert answered.reference in mine and waiting.reference not in mine
    assert f'href="/instruction/appels/{call.id}/dossiers?mine=y"' in mine
    # Each row names the submitted title and leads to the dossier.
    assert f'href="/instruction/dossiers/{answered.id}"' in received and "Aller vers les jeunes des quartiers" in received


def test_nothing_to_do_says_so(client, login_as, users):
    login_as(users["officer"])
    page = client.get("/").get_data(as_text=True)
    assert "Rien ne vous attend pour l'instant." in page
    assert counter(page, "Mes dossiers en cours") == 0


def test_the_admissibility_wait_is_a_setting(app, client, login_as, users, submitted_dossier, make_call):
    dossier = submitted_dossier(call=make_call())
    previous = app.config["ADMISSIBILITY_ALERT_DAYS"]
    app.config["ADMISSIBILITY_ALERT_DAYS"] = 3
    try:
        with time_machine.travel(datetime.now(UTC) + timedelta(days=4)):
            login_as(users["officer"])
            page = client.get("/").get_data(as_text=True)
    finally:
        app.config["ADMISSIBILITY_ALERT_DAYS"] = previous
    assert dossier.reference in work_list(page, "recevabilite-en-attente")
    assert "depuis plus de 3 jours" in page


def test_the_admin_home_has_the_same_lists(client, login_as, users):
    login_as(users["admin"])
    page = client.get("/").get_data(as_text=True)
    assert "Administration de la plateforme" in page and "Compléments reçus à examiner" in page


def test_the_queue_says_when_complements_arrived(app, client, login_as, users, db, make_call, submitted_dossier,
                                                 store):
    call = make_call()
    dossier = submitted_dossier(call=call)
    untouched = submitted_dossier(user=users["other_applicant"], call=call)
    request_complements(app, db, dossier.id, users["officer"], date.today() + timedelta(days=10))
    with app.test_request_context():
        review_ops.answer_complements(db.session.get(Dossier, dossier.id), db.session.get(User, users["applicant"].id),
                                      store=store)
        db.session.commit()
    dossier, untouched = db.session.get(Dossier, dossier.id), db.session.get(Dossier, untouched.id)
    login_as(users["officer"])
    page = client.get(queue_url(call)).get_data(as_text=True)
    row = queue_row(page, dossier.reference)
    assert "Déposé" in row and "Compléments reçus" in row and f"le {date.today():%d/%m/%Y}, à examiner" in row
    assert "Compléments reçus" not in queue_row(page, untouched.reference)
    # The project title has its column, sortable.
    assert "Aller vers les jeunes des quartiers" in row
    assert "sort=title" in page


def _fill_lists(db, call, officer: User, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` dossiers in each list of the home: theirs, complements received (answered
    requests), overdue requests, unread messages; all waiting since the generated date."""
    ids = add_dossiers(db, call, 4 * count, assigned_to=officer, states=(DossierState.submitted,))
    received, overdue, unread = ids[:count], ids[count:2 * count], ids[2 * count:3 * count]
    now = datetime.now(UTC)
    db.session.execute(update(Dossier).where(Dossier.id.in_(received)).values(submitted_version=2))
    db.session.execute(update(Dossier).where(Dossier.id.in_(overdue))
                       .values(state=DossierState.complements_requested))
    db.session.execute(insert(ComplementRequest), [
        {"dossier_id": i, "sections": ["project"], "attachment_types": [], "message": "x", "requested_at": now,
         "requested_by_id": officer.id, "due_date": date(2026, 1, 1), "answered_at": now if i in received else None,
         "answered_version": 2 if i in received else None}
        for i in received + overdue
    ])
    db.session.execute(insert(Message), [
        {"dossier_id": i, "author_id": officer.id, "from_staff": False, "body": "Une question.", "created_at": now}
        for i in unread for _ in range(3)
    ])
    db.session.commit()


def test_the_home_statements_do_not_grow_with_the_dossiers(client, login_as, users, db, make_call):
    call = make_call()
    _fill_lists(db, call, users["officer"], 2)
    login_as(users["officer"])
    client.get("/")  # warm caches

    def measure() -> tuple[int, str]:
        with counting_statements() as statements:
            page = client.get("/").get_data(as_text=True)
        return len(statements), page

    small, page = measure()
    assert counter(page, "Compléments reçus à examiner") == 2
    _fill_lists(db, call, users["officer"], 40)
    large, page = measure()
    assert counter(page, "Compléments reçus à examiner") == 42
    assert counter(page, "Messages non lus") == 42
    assert counter(page, "Mes dossiers en cours") == 168
    assert "Les 10 plus anciens sur 42." in page
    assert large == small
