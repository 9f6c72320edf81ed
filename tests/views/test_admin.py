"""An admin configures calls and creates State accounts."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from grants.models import AuditEntry, Call, Dossier, Role, User
from tests.conftest import open_reset_link
from tests.security.crawler import PageParser

PARIS = ZoneInfo("Europe/Paris")


def rows(name: str, *items: tuple[str, ...]) -> dict[str, str]:
    """A list of the call form as its table of rows posts it: code, label (and « auto »), then
    the empty spare rows of the page."""
    data: dict[str, str] = {}
    for index, item in enumerate([*items, ("", ""), ("", "")]):
        data[f"{name}-{index}-code"], data[f"{name}-{index}-label"] = item[0], item[1]
        if len(item) > 2 and item[2]:
            data[f"{name}-{index}-auto"] = "y"
    return data


def call_form(qpv_list_id: int = 0, **overrides: str) -> dict[str, str]:
    return {
        "code": "AAP-QPV-2027",
        "title": "Renforcement des parcours des jeunes des QPV — 2027",
        "programme": "Texte de l'appel.",
        "opens_at": "2026-11-25T00:00",
        "closes_at": "2027-03-26T23:59",
        "envelope": "4 000 000,00",
        "fse_rate": "60",
        "cej_forfait_per_youth": "1 600",
        "share_reperage": "40 %",
        "share_sortie_emploi": "40",
        "flat_rate_other_costs": "0",
        **rows("required_attachments", ("statuts", "Statuts"), ("rib", "RIB")),
        **rows("admissibility_criteria", ("deadline", "Déposé avant la date limite", True),
               ("signatory", "Signataire habilité")),
        "qpv_list_id": str(qpv_list_id),
    } | overrides


def test_admin_creates_a_call_with_french_numbers_and_paris_times(client, login_admin, users, db, make_qpv_list):
    qpv_list = make_qpv_list()
    login_admin()
    response = client.post("/admin/appels/nouveau", data=call_form(qpv_list.id))
    assert response.status_code == 302, response.get_data(as_text=True)
    call = db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2027"))
    assert call.envelope == Decimal("4000000.00")
    assert call.cej_forfait_per_youth == Decimal("1600.00")
    assert call.fse_rate == Decimal("0.60")
    assert call.share_reperage == call.share_sortie_emploi == Decimal("0.40")
    assert call.flat_rate_other_costs == Decimal("0")
    assert call.closes_at == datetime(2027, 3, 26, 23, 59, tzinfo=PARIS)
    assert call.qpv_list_id == qpv_list.id
    assert call.required_attachments == [{"code": "statuts", "label": "Statuts"}, {"code": "rib", "label": "RIB"}]
    assert call.admissibility_criteria == [
        {"code": "deadline", "label": "Déposé avant la date limite", "auto": True},
        {"code": "signatory", "label": "Signataire habilité", "auto": False}]
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "call.create"))
    assert audit.actor_id == users["admin"].id


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("flat_rate_other_costs", "41", "au plus 40 %"),
        ("fse_rate", "0", "au moins 1 %"),
        ("fse_rate", "150", "au plus 100 %"),
        ("fse_rate", "0,60", "60 pour 60 % (et non 0,60)"),
        ("share_reperage", "40,125", "Au plus 2 décimales"),
        ("envelope", "quatre millions", "Saisissez un nombre"),
        ("envelope", "-5", "au moins 0"),
        ("envelope", "10,005", "Au plus 2 décimales"),
        ("closes_at", "2026-11-01T10:00", "postérieure à l&#39;ouverture"),
        ("opens_at", "32/13/2026", "Date et heure invalides"),
        ("code", "aap qpv", "Majuscules, chiffres et tirets"),
        ("required_attachments-0-code", "Statuts Accentués", "Minuscules sans accent"),
        ("required_attachments-1-code", "statuts", "Le code « statuts » figure déjà plus haut."),
        ("required_attachments-0-label", "", "Indiquez le libellé."),
        ("admissibility_criteria-1-auto", "y", "Le système ne juge que les critères de code deadline"),
    ],
)
def test_invalid_call_keeps_input_and_says_why(client, login_admin, users, db, field, value, message):
    login_admin()
    response = client.post("/admin/appels/nouveau", data=call_form(**{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "Vos saisies sont conservées" in page
    assert "Renforcement des parcours des jeunes des QPV — 2027" in page  # other input kept
    assert db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2027")) is None


def test_edit_call_records_changes_in_audit(client, login_admin, users, db, make_call):
    call = make_call()
    login_admin()
    page = client.get(f"/admin/appels/{call.id}").get_data(as_text=True)
    assert 'value="4 000 000,00"' in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    data = call_form(code=call.code, envelope="3 500 000", version=version)
    response = client.post(f"/admin/appels/{call.id}", data=data)
    assert response.status_code == 302
    stored = db.session.get(Call, call.id)
    assert stored.envelope == Decimal("3500000.00")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "call.update"))
    assert entry.details["envelope"] == ["4000000.00", "3500000.00"]


def test_concurrent_call_edit_is_reported_and_input_kept(client, login_admin, users, db, make_call):
    call = make_call()
    login_admin()
    stale_version = str(call.version)
    first = client.post(f"/admin/appels/{call.id}", data=call_form(code=call.code, envelope="1 000 000", version=stale_version))
    assert first.status_code == 302
    second = client.post(
        f"/admin/appels/{call.id}", data=call_form(code=call.code, envelope="2 222 222,22", version=stale_version)
    )
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "modifié par quelqu&#39;un d&#39;autre" in page
    assert 'value="2 222 222,22"' in page
    assert db.session.get(Call, call.id).envelope == Decimal("1000000.00")


def test_admin_creates_officer_account_who_sets_password_by_email(client, app, login_admin, users, db, smtp_server):
    login_admin()
    response = client.post(
        "/admin/comptes/nouveau",
        data={"full_name": "Odile Gestionnaire", "email": "odile@dreets.gouv.fr", "role": "officer"},
    )
    assert response.status_code == 302
    officer = db.session.scalar(select(User).where(User.email == "odile@dreets.gouv.fr"))
    assert officer.role is Role.officer and officer.structure_id is None
    [message] = smtp_server.messages
    link = re.search(r"http://localhost(/compte/reinitialiser/\S+)", message.get_content()).group(1)
    newcomer = app.test_client()
    form = open_reset_link(newcomer, link)
    token_page = newcomer.get(form).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    response = newcomer.post(form, data={"csrf_token": token, "password": "odile-mot-de-passe", "confirm": "odile-mot-de-passe"})
    assert response.status_code == 302
    # the account is usable with the chosen password
    fresh = app.test_client()
    page = fresh.get("/compte/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    login = fresh.post("/compte/connexion", data={"csrf_token": token, "email": "odile@dreets.gouv.fr", "password": "odile-mot-de-passe"})
    assert login.status_code == 302


def test_admin_cannot_create_applicant_accounts(client, login_admin, users, db):
    login_admin()
    response = client.post(
        "/admin/comptes/nouveau", data={"full_name": "X", "email": "x@exemple.fr", "role": "applicant"}
    )
    assert response.status_code == 200
    assert "N&#39;est pas un choix valide." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "x@exemple.fr")) is None


def test_qpv_list_page_shows_communes(client, login_admin, users, make_qpv_list):
    qpv_list = make_qpv_list()
    login_admin()
    page = client.get(f"/admin/qpv/{qpv_list.id}").get_data(as_text=True)
    assert "QN05901M" in page and "Lille (59350)" in page


# A call's rates as percentages, its lists as rows, its next edition -------------------------


def test_rates_are_shown_as_percentages_and_lists_as_rows(client, login_admin, users, make_call):
    call = make_call(fse_rate=Decimal("0.6"), share_reperage=Decimal("0.375"), flat_rate_other_costs=Decimal("0.40"))
    login_admin()
    page = client.get(f"/admin/appels/{call.id}").get_data(as_text=True)
    assert re.search(r'id="fse_rate"[^>]*value="60"|value="60"[^>]*id="fse_rate"', page)
    assert re.search(r'id="share_reperage"[^>]*value="37,5"|value="37,5"[^>]*id="share_reperage"', page)
    assert re.search(r'id="flat_rate_other_costs"[^>]*value="40"|value="40"[^>]*id="flat_rate_other_costs"', page)
    assert "Taux d&#39;intervention FSE+ (%)" in page
    # Each pièce and criterion is a row, then two empty rows to add more.
    count = len(call.required_attachments)
    assert f'name="required_attachments-{count - 1}-code"' in page and 'value="statuts"' in page
    assert f'name="required_attachments-{count + 1}-code"' in page
    assert f'name="required_attachments-{count + 2}-code"' not in page
    assert re.search(r'<input checked id="admissibility_criteria-0-auto" name="admissibility_criteria-0-auto"', page)
    assert "|" not in page.split('id="required_attachments-table"', 1)[1].split("</table>", 1)[0]


def test_rows_are_added_and_removed_without_javascript(client, login_admin, users, db, make_call):
    call = make_call()
    login_admin()
    data = call_form(code=call.code, version=str(call.version)) | {
        # Row 1 (rib) removed, a new row typed in a spare row, the last spare row left empty.
        "required_attachments-1-remove": "y",
        "required_attachments-2-code": "bilan_n1", "required_attachments-2-label": "Bilan de l'exercice N-1",
        "admissibility_criteria-2-code": "plan_action", "admissibility_criteria-2-label": "Plan d'action daté",
    }
    response = client.post(f"/admin/appels/{call.id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    stored = db.session.get(Call, call.id)
    assert stored.required_attachments == [{"code": "statuts", "label": "Statuts"},
                                           {"code": "bilan_n1", "label": "Bilan de l'exercice N-1"}]
    assert stored.admissibility_criteria[-1] == {"code": "plan_action", "label": "Plan d'action daté", "auto": False}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "call.update")).all()[-1]
    assert "required_attachments" in entry.details


def test_a_removed_row_is_not_checked(client, login_admin, users, db, make_call):
    call = make_call()
    login_admin()
    data = call_form(code=call.code, version=str(call.version)) | {
        "required_attachments-1-code": "Code Faux !", "required_attachments-1-remove": "y"}
    response = client.post(f"/admin/appels/{call.id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert db.session.get(Call, call.id).required_attachments == [{"code": "statuts", "label": "Statuts"}]


def test_a_row_error_is_next_to_its_cell_and_keeps_every_row(client, login_admin, users, db):
    login_admin()
    data = call_form() | {"required_attachments-2-code": "statuts", "required_attachments-2-label": "Encore"}
    page = client.post("/admin/appels/nouveau", data=data).get_data(as_text=True)
    assert ('<a href="#required_attachments-2-code">Pièces obligatoires 3, Code : Le code « statuts » figure déjà '
            'plus haut.</a>') in page
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="required_attachments-2-code"', page)
    assert 'value="Encore"' in page and 'value="RIB"' in page
    assert db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2027")) is None


def test_a_call_is_duplicated_for_its_next_edition(client, login_admin, users, db, make_call, make_dossier):
    source = make_call(code="AAP-QPV-2026", title="Parcours QPV — édition 2026", envelope=Decimal("3500000.00"),
                       fse_rate=Decimal("0.55"), programme="Le texte de l'appel 2026.")
    make_dossier(users["applicant"], call=source)
    login_admin()
    page = client.get(f"/admin/appels/{source.id}/dupliquer").get_data(as_text=True)
    assert "Nouvelle édition de l&#39;appel AAP-QPV-2026" in page
    assert "Le texte de l&#39;appel 2026." in page and 'value="3 500 000,00"' in page and 'value="55"' in page
    assert re.search(r'<input[^>]*id="code"[^>]*value=""', page)
    assert 'name="opens_at"' in page and 'value="AAP-QPV-2026"' not in page
    # The admin types the code and the dates; the rest comes from the page as it was.
    parser = PageParser(f"/admin/appels/{source.id}/dupliquer")
    parser.feed(page)
    [form] = [dict(f.fields) for f in parser.forms if f.method == "POST" and "code" in dict(f.fields)]
    form |= {"code": "AAP-QPV-2027", "opens_at": "2027-11-25T00:00", "closes_at": "2028-03-26T23:59",
             "programme": "Le texte de l'appel 2026.", "qpv_list_id": str(source.qpv_list_id),
             "title": "Parcours QPV — édition 2027"}
    response = client.post(f"/admin/appels/{source.id}/dupliquer", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    copy = db.session.scalar(select(Call).where(Call.code == "AAP-QPV-2027"))
    original = db.session.get(Call, source.id)
    for key in ("envelope", "fse_rate", "cej_forfait_per_youth", "share_reperage", "share_sortie_emploi",
                "flat_rate_other_costs", "required_attachments", "admissibility_criteria", "qpv_list_id",
                "programme"):
        assert getattr(copy, key) == getattr(original, key), key
    assert copy.title == "Parcours QPV — édition 2027"
    assert copy.opens_at == datetime(2027, 11, 25, tzinfo=PARIS)
    assert db.session.scalar(select(func.count(Dossier.id)).where(Dossier.call_id == copy.id)) == 0
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "call.create",
                                                       AuditEntry.object_id == copy.id))
    assert audit.details["duplicated_from"] == {"id": source.id, "code": "AAP-QPV-2026"}
    # Its code and dates are to type: the same code is refused, input kept.
    again = client.post(f"/admin/appels/{source.id}/dupliquer", data=form | {"code": "AAP-QPV-2026"})
    assert "Un appel porte déjà ce code." in again.get_data(as_text=True)


def test_the_calls_list_offers_to_duplicate(client, login_admin, users, make_call):
    call = make_call()
    login_admin()
    page = client.get("/admin/appels").get_data(as_text=True)
    assert f'href="/admin/appels/{call.id}/dupliquer"' in page


def test_only_the_criteria_the_system_judges_can_be_automatic():
    from grants.admissibility import AUTOMATIC_CRITERIA, evaluate

    snapshot = {"submitted_at": "2026-03-01T10:00:00+00:00", "content": {}, "attachments": []}
    verdicts = evaluate(snapshot, closes_at=datetime(2026, 3, 26, tzinfo=PARIS), required_types=[], reference_qpv=set())
    assert set(verdicts) == set(AUTOMATIC_CRITERIA)
