"""Bad input on the main forms, driven by hypothesis: random unicode, huge strings, negative
numbers, NaN, infinities, ``1e309``, ``0,005``, dates out of range, missing and duplicated
fields. Never a 500; an invalid form comes back with a French message; a refused submission
leaves the stored row exactly as it was.

Each form starts from the values its own page shows (parsed from the HTML, so the base
submission is valid), then hypothesis breaks a few fields. Examples share the database of
the test: a valid submission may change the row, and the next example compares against
the row as it is then.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from grants.models import AdmissibilityOutcome, AgendaItem, Call, Dossier, User
from grants.operations import review
from grants.operations.dossiers import submit_dossier
from tests.conftest import PASSWORD
from tests.operations.test_committee import instructed, session_with  # noqa: F401  (fixtures)
from tests.security.conftest import csrf_token, login
from tests.security.crawler import Form, PageParser

SETTINGS = settings(max_examples=int(os.environ.get("SECURITY_EXAMPLES", "25")), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NASTY = [
    "", " ", "-1", "-0,01", "-42 000,50", "0", "0,005", "0.005", "1 234,567", "NaN", "nan", "-NaN", "sNaN",
    "inf", "-inf", "Infinity", "1e309", "-1e309", "1E5", "9" * 40, "9" * 5000, "1" + "0" * 30 + ",00",
    "0001-01-01", "9999-12-31", "2026-02-30", "0000-00-00", "31/12/2027", "2027-13-01T25:61",
    "0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30T10:00",
    "\x00", "a\x00b", "<script>alert(1)</script>", "'; DROP TABLE users; --", "٣٤", "１２３", "\u202eabc", "🇫🇷" * 10,
    "x" * 100_000, "é" * 100_000,
]
nasty = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers(-10**15, 10**15).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.dates().map(lambda d: d.isoformat()),
)


@st.composite
def broken(draw: Any, base: list[tuple[str, str]]) -> MultiDict:
    """``base`` with a few fields replaced by nasty values, dropped, or sent twice."""
    names = sorted({name for name, _ in base if name not in ("csrf_token", "version")})
    mutated = set(draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=3)))
    missing = set(draw(st.lists(st.sampled_from(names), unique=True, max_size=2)))
    doubled = set(draw(st.lists(st.sampled_from(names), unique=True, max_size=2)))
    data: MultiDict = MultiDict()
    for name, value in base:
        if name in missing:
            continue
        data.add(name, draw(nasty) if name in mutated else value)
        if name in doubled:
            data.add(name, draw(nasty))
    return data


def form_on(client: Any, page: str, action: str | None = None) -> Form:
    """The form of ``page`` (posting to ``action``, or the page itself), as a browser fills it."""
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    parser = PageParser(page)
    parser.feed(response.get_data(as_text=True))
    target = action or page
    return next(f for f in parser.forms if (f.action or page).split("#")[0] == target)


def row_hash(db: Any, model: type[Any], ident: int) -> str:
    db.session.remove()
    table = model.__table__
    row = db.session.execute(select(table).where(table.c.id == ident)).one()
    db.session.remove()
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()


def current_version(db: Any, model: type[Any], ident: int) -> str:
    db.session.remove()
    version = db.session.get(model, ident).version
    db.session.remove()
    return str(version)


FRENCH_WORDS = {"le", "la", "les", "de", "du", "des", "est", "doit", "un", "une", "ce", "champ", "saisissez"}


def looks_french(text: str) -> bool:
    return bool(re.search(r"[àâçéèêëîôûù«»]", text) or FRENCH_WORDS & set(re.findall(r"[a-zàâçéèêëîïôûùüÿœ]+", text.lower())))


def french_error_shown(html: str) -> bool:
    """A message next to a field, an error flash, or the French page of a refused request."""
    return "fr-error-text" in html or "fr-alert--error" in html or "Requête invalide" in html


STATUSES: Counter[tuple[str, int]] = Counter()


def check_invalid_leaves_row(client: Any, db: Any, url: str, data: MultiDict, token: str,
                             model: type[Any], ident: int, success: str) -> int:
    """POST ``data``: saved (a redirect to ``success``), or refused with a French message and
    the row unchanged."""
    before = row_hash(db, model, ident)
    data.setlist("csrf_token", [token])
    response = client.post(url, data=data, csrf=False)
    status = response.status_code
    html = response.get_data(as_text=True)
    STATUSES[(re.sub(r"\d+", "N", url), status)] += 1
    assert status != 500, (url, data)
    if status in (302, 303):
        assert response.headers["Location"].startswith(success), response.headers["Location"]
        return status
    assert status in (200, 400, 409, 422), (status, url)
    assert french_error_shown(html), (status, url, dict(data.lists()))
    assert row_hash(db, model, ident) == before, f"refused submission changed the row: {dict(data.lists())}"
    return status


# Applicant sections -------------------------------------------------------------------------


@pytest.fixture
def applicant_draft(app, db, users, make_dossier):
    dossier = make_dossier(users["applicant"], attachments=False)
    client = login(app, users["applicant"])
    return client, csrf_token(client), dossier.id


@pytest.mark.parametrize(
    "section", ["identification", "project", "territories", "public", "resources", "indicators", "declaration"]
)
def test_applicant_sections_survive_bad_input(db, applicant_draft, section):
    client, token, dossier_id = applicant_draft
    url = f"/porteur/dossiers/{dossier_id}/sections/{section}"
    # A click sends one button: the save (« Ajouter » / « Retirer » only show the form again,
    # tests/views/test_applicant_sections.py), never the blank row copied by the page's script.
    base = [(name, value) for name, value in form_on(client, url).fields
            if name not in ("add_row", "remove_row") and "__index__" not in name]

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        data.setlist("version", [current_version(db, Dossier, dossier_id)])
        status = check_invalid_leaves_row(client, db, url, data, token, Dossier, dossier_id,
                                          f"/porteur/dossiers/{dossier_id}")
        if status in (302, 303):  # saved, incomplete maybe: the pages reading it still work
            for page in (url, f"/porteur/dossiers/{dossier_id}", f"/porteur/dossiers/{dossier_id}/deposer"):
                assert client.get(page).status_code == 200, (page, dict(data.lists()))

    submit()


@pytest.mark.parametrize("amount", ["9" * 29, "9" * 40, "1" + "0" * 30 + ",00"])
def test_an_amount_beyond_the_decimal_precision_is_refused_not_a_500(db, applicant_draft, amount):
    """Regression: ``quantize`` raised decimal.InvalidOperation (a 500) past 28 digits."""
    client, token, dossier_id = applicant_draft
    url = f"/porteur/dossiers/{dossier_id}/sections/resources"
    data = MultiDict(form_on(client, url).fields)
    data.setlist("reperage-cofinancing-0-funder", ["Département du Nord"])
    data.setlist("reperage-cofinancing-0-amount", [amount])
    status = check_invalid_leaves_row(client, db, url, data, token, Dossier, dossier_id, "/")
    assert status == 422
    assert "Nombre trop grand" in client.post(url, data=data, csrf=False).get_data(as_text=True)


@pytest.mark.parametrize("section, field", [("identification", "contact_name"), ("project", "title"),
                                            ("resources", "reperage-posts-0-label")])
def test_a_nul_character_is_refused_not_a_500(db, applicant_draft, section, field):
    """Regression: PostgreSQL refuses NUL in text, so ``Karim\\x00`` in a title was a 500 there."""
    client, token, dossier_id = applicant_draft
    url = f"/porteur/dossiers/{dossier_id}/sections/{section}"
    data = MultiDict(form_on(client, url).fields)
    data.setlist(field, ["Karim\x00Démo"])
    assert check_invalid_leaves_row(client, db, url, data, token, Dossier, dossier_id, "/") == 400


def test_a_nul_character_in_a_query_or_the_login_is_refused_not_a_500(app, db, users, make_call):
    call = make_call()
    anonymous = login(app, None)
    data = MultiDict([("email", "a\x00b@exemple.fr"), ("password", "x"), ("csrf_token", csrf_token(anonymous))])
    assert anonymous.post("/compte/connexion", data=data, csrf=False).status_code == 400
    officer = login(app, users["officer"])
    for query in ("q=%00", "q=Mission%00locale", "state=%00"):
        response = officer.get(f"/instruction/appels/{call.id}/dossiers?{query}")
        assert response.status_code == 400 and "Requête invalide" in response.get_data(as_text=True), query


# Admin: a call's parameters ------------------------------------------------------------------


def confirm_admin_password(client: Any, url: str) -> None:
    """Admin actions may ask the password again first (then the page opens)."""
    response = client.get(url)
    if response.status_code == 302 and "/compte/confirmation" in response.headers["Location"]:
        confirm = response.headers["Location"]
        client.post(confirm, data={"password": PASSWORD}, csrf_from=confirm)
    assert client.get(url).status_code == 200


def test_admin_call_form_survives_bad_input(app, db, users, make_call):
    call = make_call()
    client = login(app, users["admin"])
    url = f"/admin/appels/{call.id}"
    confirm_admin_password(client, url)
    token = csrf_token(client)
    base = form_on(client, url).fields

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        data.setlist("version", [current_version(db, Call, call.id)])
        check_invalid_leaves_row(client, db, url, data, token, Call, call.id, "/admin/appels")

    submit()


@pytest.mark.parametrize("field", ["cej_forfait_per_youth", "share_reperage", "opens_at", "envelope"])
def test_spaces_in_a_required_call_field_are_refused_not_a_500(app, db, users, make_call, field):
    """Regression: InputRequired accepted " ", the field's value was None, the NOT NULL column a 500."""
    call = make_call()
    client = login(app, users["admin"])
    url = f"/admin/appels/{call.id}"
    confirm_admin_password(client, url)
    data = MultiDict(form_on(client, url).fields)
    data.setlist(field, ["  "])
    check_invalid_leaves_row(client, db, url, data, csrf_token(client), Call, call.id, "/admin/appels")
    page = client.post(url, data=data, csrf=False).get_data(as_text=True)
    assert "Ce champ est obligatoire." in page


def test_admin_account_form_survives_bad_input(app, db, users):
    client = login(app, users["admin"])
    url = f"/admin/comptes/{users['officer'].id}"
    confirm_admin_password(client, url)
    token = csrf_token(client)
    base = form_on(client, url).fields

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        check_invalid_leaves_row(client, db, url, data, token, User, users["officer"].id, url)

    submit()


def test_admin_qpv_upload_survives_bad_files(app, db, users):
    import io

    from grants.models import QpvList

    client = login(app, users["admin"])
    url = "/admin/qpv/nouvelle"
    confirm_admin_password(client, url)
    token = csrf_token(client)
    header = st.sampled_from([b"", b"code_qp;lib_qp;insee_com;lib_com\n", b"code_qp,nom_qp,insee_com,lib_com\n"])
    content = st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")),
                        st.sampled_from([b"QN05901M;A;59350;Lille\n", b"QN05901M,,59350,Lille\n",
                                         b"\x00\x00\x00", b'"QN05901M;A\n', "é".encode("cp1252") * 50]))

    @SETTINGS
    @given(head=header, body=content, name=nasty, version=nasty)
    def submit(head: bytes, body: bytes, name: str, version: str) -> None:
        db.session.remove()
        before = db.session.scalar(select(func.count(QpvList.id)))
        db.session.remove()
        response = client.post(url, data={"csrf_token": token, "file": (io.BytesIO(head + body), "liste.csv"),
                                          "name": name, "version_date": version, "departements": ["59"]},
                               content_type="multipart/form-data", csrf=False)
        html = response.get_data(as_text=True)
        assert response.status_code != 500, (head + body)[:80]
        if response.status_code == 302:
            return  # a valid list after all
        assert response.status_code in (400, 422) and french_error_shown(html)
        db.session.remove()
        assert db.session.scalar(select(func.count(QpvList.id))) == before
        db.session.remove()

    submit()


# Officer: the instruction of an admissible dossier -----------------------------------------


@pytest.fixture
def admissible(app, db, users, make_dossier, store):
    dossier = make_dossier(users["applicant"])
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        officer = db.session.get(User, users["officer"].id)
        submit_dossier(dossier, db.session.get(User, users["applicant"].id), store=store,
                       expected_version=dossier.version)
        checklist = review.get_review(dossier)
        review.save_checklist(checklist, {c["code"]: {"value": "pass", "comment": ""}
                                          for c in dossier.call.admissibility_criteria}, officer, None)
        review.record_admissibility(checklist, AdmissibilityOutcome.admissible, "", officer)
        db.session.commit()
    return dossier.id


def test_officer_instruction_form_survives_bad_input(app, db, users, admissible):
    from grants.models import Instruction

    client = login(app, users["officer"])
    token = csrf_token(client)
    url = f"/instruction/dossiers/{admissible}/instruction"
    base = [(name, value) for name, value in form_on(client, url).fields if name != "final"]

    def instruction_id() -> int | None:
        db.session.remove()
        found = db.session.scalar(select(Instruction.id).where(Instruction.dossier_id == admissible))
        db.session.remove()
        return found

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        ident = instruction_id()
        if ident is None:  # not saved yet: the dossier row is what must stay unchanged
            check_invalid_leaves_row(client, db, url, data, token, Dossier, admissible, url)
            return
        data.setlist("version", [current_version(db, Instruction, ident)])
        check_invalid_leaves_row(client, db, url, data, token, Instruction, ident, url)

    submit()


# Committee: a decision on an agenda item -----------------------------------------------------


def test_committee_decision_form_survives_bad_input(app, db, users, instructed, session_with):  # noqa: F811
    dossier = instructed()
    session_id = session_with(instructed.call, [dossier])
    db.session.remove()
    item_id = db.session.scalar(select(AgendaItem.id).where(AgendaItem.session_id == session_id))
    db.session.remove()
    client = login(app, users["officer"])
    token = csrf_token(client)
    url = f"/comite/seances/{session_id}/decisions/{item_id}"
    base = form_on(client, f"/comite/seances/{session_id}", url).fields

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        before = (row_hash(db, AgendaItem, item_id), row_hash(db, Dossier, dossier.id))
        data.setlist("csrf_token", [token])
        response = client.post(url, data=data, csrf=False)
        if response.status_code == 400:  # a NUL character: the request is refused as a whole
            assert "Requête invalide" in response.get_data(as_text=True)
            assert (row_hash(db, AgendaItem, item_id), row_hash(db, Dossier, dossier.id)) == before
            return
        if response.status_code == 422:  # bad input: the page again, the message next to the field
            html = response.get_data(as_text=True)
            assert french_error_shown(html) and "Le formulaire contient" in html, dict(data.lists())
            assert (row_hash(db, AgendaItem, item_id), row_hash(db, Dossier, dossier.id)) == before
            return
        # Otherwise a redirect to the session with a flash: recorded, or refused for its state.
        assert response.status_code == 302, (response.status_code, dict(data.lists()))
        with client.session_transaction() as session:
            flashes = session.pop("_flashes", [])
        assert flashes, "no message after a decision"
        if any(kind == "error" for kind, _ in flashes):
            assert all(looks_french(text) for _, text in flashes), flashes
            assert (row_hash(db, AgendaItem, item_id), row_hash(db, Dossier, dossier.id)) == before

    submit()


# Login --------------------------------------------------------------------------------------


def test_login_form_survives_bad_input(app, db, users):
    user = users["applicant"]
    base = [("email", user.email), ("password", "pas le bon mot de passe")]

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        client = login(app, None)
        token = csrf_token(client)
        data.setlist("csrf_token", [token])
        response = client.post("/compte/connexion", data=data, csrf=False)
        assert response.status_code in (200, 400, 422, 429), (response.status_code, dict(data.lists()))
        assert french_error_shown(response.get_data(as_text=True)), dict(data.lists())
        assert client.get("/porteur/structure").status_code == 302  # still anonymous

    submit()



# More forms: what a refused submission must not create or change --------------------------


def count_rows(db: Any, model: type[Any], *where: Any) -> int:
    from sqlalchemy import func

    db.session.remove()
    found = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.remove()
    return found


def post_broken(client: Any, url: str, data: MultiDict, token: str, success: str) -> tuple[int, str]:
    """POST ``data``: never a 500; a redirect to ``success``, or a French message."""
    data.setlist("csrf_token", [token])
    response = client.post(url, data=data, csrf=False)
    status, html = response.status_code, response.get_data(as_text=True)
    STATUSES[(re.sub(r"\d+", "N", url), status)] += 1
    assert status != 500, (url, dict(data.lists()))
    if status in (302, 303):
        assert response.headers["Location"].startswith(success), response.headers["Location"]
    else:
        assert status in (200, 400, 409, 422), (status, url)
        assert french_error_shown(html), (status, url, dict(data.lists()))
    return status, html


def test_structure_profile_survives_bad_input(app, db, users):
    from grants.models import Structure

    client = login(app, users["applicant"])
    token = csrf_token(client)
    url = "/porteur/structure"
    base = form_on(client, url).fields
    structure_id = users["applicant"].structure_id

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        data.setlist("version", [current_version(db, Structure, structure_id)])
        check_invalid_leaves_row(client, db, url, data, token, Structure, structure_id, "/")

    submit()


def test_registration_survives_bad_input(app, db):
    base = [("email", "nouvelle.personne@ml-exemple.fr"), ("full_name", "Nouvelle Personne"),
            ("siret", "90030000300018"), ("structure_name", "Association Nouvelle (fictive)"),
            ("structure_kind", "association"), ("password", "un-mot-de-passe-solide-42"),
            ("confirm", "un-mot-de-passe-solide-42")]

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        client = login(app, None)
        token = csrf_token(client)
        before = count_rows(db, User)
        status, _ = post_broken(client, "/compte/inscription", data, token, "/")
        if status not in (302, 303):
            assert count_rows(db, User) == before, "a refused registration created an account"

    submit()


@pytest.fixture
def submitted_id(users, make_submitted):
    return make_submitted(users["applicant"]).id


def test_admissibility_checklist_survives_bad_input(app, db, users, submitted_id):
    client = login(app, users["officer"])
    token = csrf_token(client)
    page = f"/instruction/dossiers/{submitted_id}"
    url = f"{page}/recevabilite"
    base = form_on(client, page, url).fields

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        before = row_hash(db, Dossier, submitted_id)
        status, _ = post_broken(client, url, data, token, page)
        if status not in (302, 303):
            assert row_hash(db, Dossier, submitted_id) == before

    submit()


def test_complements_request_survives_bad_input(app, db, users, submitted_id):
    from grants.models import ComplementRequest

    client = login(app, users["officer"])
    token = csrf_token(client)
    page = f"/instruction/dossiers/{submitted_id}"
    url = f"{page}/complements"
    base = form_on(client, page, url).fields

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        before = (row_hash(db, Dossier, submitted_id),
                  count_rows(db, ComplementRequest, ComplementRequest.dossier_id == submitted_id))
        status, _ = post_broken(client, url, data, token, page)
        if status not in (302, 303):
            after = (row_hash(db, Dossier, submitted_id),
                     count_rows(db, ComplementRequest, ComplementRequest.dossier_id == submitted_id))
            assert after == before

    submit()


def test_message_form_survives_bad_input(app, db, users, submitted_id):
    from grants.models import Message

    client = login(app, users["applicant"])
    token = csrf_token(client)
    url = f"/dossiers/{submitted_id}/messages"
    base = [(name, value) for name, value in form_on(client, url).fields if name != "attachment"]
    base.append(("body", "Bonjour, voici une précision."))

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        before = count_rows(db, Message, Message.dossier_id == submitted_id)
        status, _ = post_broken(client, url, data, token, url)
        if status not in (302, 303):
            assert count_rows(db, Message, Message.dossier_id == submitted_id) == before

    submit()


def test_committee_session_form_survives_bad_input(app, db, users, make_call, make_user):
    from grants.models import CommitteeSession, Role

    call = make_call()
    make_user(Role.committee)
    client = login(app, users["officer"])
    token = csrf_token(client)
    url = f"/comite/appels/{call.id}/seances/nouvelle"
    base = form_on(client, url).fields

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        before = count_rows(db, CommitteeSession, CommitteeSession.call_id == call.id)
        status, _ = post_broken(client, url, data, token, "/comite/seances/")
        if status not in (302, 303):
            assert count_rows(db, CommitteeSession, CommitteeSession.call_id == call.id) == before

    submit()


def test_structure_siret_change_survives_bad_input(app, db, users):
    """Issue 14: the staff's SIRET correction and verification forms."""
    from grants.models import Structure, StructureVerification

    structure_id = users["other_applicant"].structure_id
    structure = db.session.get(Structure, structure_id)
    structure.verification, structure.verified_at = StructureVerification.to_verify, None
    db.session.commit()
    client = login(app, users["officer"])
    token = csrf_token(client)
    page = f"/instruction/structures/{structure_id}"

    def run(action: str, extra: list[tuple[str, str]]) -> None:
        base = [(name, value) for name, value in form_on(client, page, action).fields if name not in dict(extra)]
        base += extra

        @SETTINGS
        @given(data=broken(base))
        def submit(data: MultiDict) -> None:
            check_invalid_leaves_row(client, db, action, data, token, Structure, structure_id, page)

        submit()

    run(f"{page}/siret", [("siret", "90030000300018"), ("motive", "Correction du NIC.")])
    run(f"{page}/verification", [("note", "SIRET actif.")])


def test_committee_session_edit_form_survives_bad_input(app, db, users, instructed, session_with):  # noqa: F811
    """Editing a planned session: never a 500; refused, a French message and the row as it was;
    the version field is kept as the page gives it (a stale one is a conflict, tested apart)."""
    from grants.models import CommitteeSession

    session_id = session_with(instructed.call, [], held=False)
    client = login(app, users["officer"])
    token = csrf_token(client)
    url = f"/comite/seances/{session_id}/modifier"
    base = form_on(client, url).fields

    @SETTINGS
    @given(data=broken(base))
    def submit(data: MultiDict) -> None:
        data.setlist("version", [current_version(db, CommitteeSession, session_id)])
        before = row_hash(db, CommitteeSession, session_id)
        status, _ = post_broken(client, url, data, token, f"/comite/seances/{session_id}")
        if status not in (302, 303):
            assert row_hash(db, CommitteeSession, session_id) == before

    submit()
