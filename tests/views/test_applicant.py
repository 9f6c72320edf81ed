"""The applicant journey through the web pages."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import request
from sqlalchemy import func, select

from grants.models import AuditEntry, Dossier, DossierState, Role, Structure
from tests.conftest import COMPLETE_CONTENT, SAMPLE_PDF

PARIS = ZoneInfo("Europe/Paris")


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def version_of(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


# Structure profile -------------------------------------------------------------------------


def test_structure_profile_with_commune_by_name(client, login_as, users, db):
    user = users["applicant"]
    login_as(user)
    page = client.get("/porteur/structure").get_data(as_text=True)
    assert 'list="communes-hdf"' in page and "Valenciennes (59) — CP 59300 — INSEE 59606" in page
    structure = db.session.get(Structure, user.structure_id)
    response = client.post("/porteur/structure", data={
        "version": version_of(page), "name": "Mission locale du Hainaut", "siret": structure.siret,
        "kind": "mission_locale", "legal_form": "Association loi 1901", "address": "1 rue Haute",
        "postal_code": "59300", "commune_insee": "valenciennes", "legal_rep_name": "Claire Exemple",
        "legal_rep_title": "Présidente", "contact_name": "K", "contact_email": "k@ml.fr", "contact_phone": "",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.remove()
    structure = db.session.get(Structure, user.structure_id)
    assert (structure.commune_insee, structure.commune_name, structure.departement) == ("59606", "Valenciennes", "59")
    assert structure.name == "Mission locale du Hainaut"


def profile_with_commune(client, db, user, commune: str):  # type: ignore[no-untyped-def]
    page = client.get("/porteur/structure").get_data(as_text=True)
    structure = db.session.get(Structure, user.structure_id)
    return client.post("/porteur/structure", data={
        "version": version_of(page), "name": structure.name, "siret": structure.siret, "kind": "mission_locale",
        "postal_code": "62300", "commune_insee": commune,
    })


def test_a_postal_code_shared_by_several_communes_is_never_guessed(client, login_as, users, db):
    """62300 is Lens's postal code (and Éleu-dit-Leauwette's) and Équihen-Plage's INSEE code:
    typed alone it designates none of them, the page lists the three to pick from."""
    user = users["applicant"]
    login_as(user)
    response = profile_with_commune(client, db, user, "62300")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "« 62300 » désigne plusieurs communes" in page
    for label in ("Lens (62) — CP 62300 — INSEE 62498", "Éleu-dit-Leauwette (62) — CP 62300 — INSEE 62291",
                  "Équihen-Plage (62) — CP 62224 — INSEE 62300"):
        assert label in page
    assert 'value="62300"' in page
    db.session.remove()
    assert db.session.get(Structure, user.structure_id).commune_insee == "59350"  # unchanged


@pytest.mark.parametrize(
    ("typed", "insee", "name"),
    [
        ("Lens (62) — CP 62300 — INSEE 62498", "62498", "Lens"),  # the option picked in the list
        ("Équihen-Plage (62) — CP 62224 — INSEE 62300", "62300", "Équihen-Plage"),
        ("80000", "80021", "Amiens"),  # a postal code of one commune only
        ("lens", "62498", "Lens"),
    ],
)
def test_the_commune_saved_is_the_one_picked(client, login_as, users, db, typed, insee, name):
    user = users["applicant"]
    login_as(user)
    response = profile_with_commune(client, db, user, typed)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.remove()
    structure = db.session.get(Structure, user.structure_id)
    assert (structure.commune_insee, structure.commune_name) == (insee, name)


def test_structure_profile_errors_keep_input(client, login_as, users, db):
    login_as(users["applicant"])
    page = client.get("/porteur/structure").get_data(as_text=True)
    response = client.post("/porteur/structure", data={
        "version": version_of(page), "name": "Nom tapé", "siret": "12345678901234", "kind": "plie",
        "commune_insee": "Ville-qui-n-existe-pas", "contact_email": "pas-un-courriel",
    })
    page = response.get_data(as_text=True)
    assert "SIRET invalide" in page
    assert "Commune inconnue en Hauts-de-France" in page
    assert "Adresse électronique invalide." in page
    assert 'value="Nom tapé"' in page and 'value="Ville-qui-n-existe-pas"' in page


def test_structure_profile_conflict_between_two_colleagues(client, app, login_as, users, db, make_user):
    user = users["applicant"]
    colleague = make_user(Role.applicant, structure=db.session.get(Structure, user.structure_id))
    login_as(user)
    page = client.get("/porteur/structure").get_data(as_text=True)
    stale = version_of(page)
    structure = db.session.get(Structure, user.structure_id)
    base = {"siret": structure.siret, "kind": "mission_locale"}
    assert client.post("/porteur/structure", data=base | {"version": stale, "name": "Premier"}).status_code == 302
    second = client.post("/porteur/structure", data=base | {"version": stale, "name": "Second"})
    assert second.status_code == 409
    assert 'value="Second"' in second.get_data(as_text=True)
    assert colleague.structure_id == user.structure_id


# Dossier creation and sections -------------------------------------------------------------


def test_start_dossier_on_open_call_only(client, login_as, users, db, make_call):
    open_call = make_call()
    closed = make_call(opens_at=datetime(2022, 11, 25, tzinfo=PARIS), closes_at=datetime(2023, 3, 26, 23, 59, tzinfo=PARIS))
    login_as(users["applicant"])
    response = client.post(f"/porteur/appels/{open_call.id}/dossiers", csrf_from=f"/porteur/appels/{open_call.id}")
    assert response.status_code == 302
    dossier = db.session.scalar(select(Dossier))
    assert dossier.state is DossierState.draft and dossier.structure_id == users["applicant"].structure_id
    refused = client.post(f"/porteur/appels/{closed.id}/dossiers", csrf_from="/", follow_redirects=True)
    assert "n'est pas ouvert aux dépôts" in refused.get_data(as_text=True).replace("&#39;", "'")
    assert db.session.scalar(select(func.count(Dossier.id))) == 1


def resources_form(version: str, **overrides: str) -> dict[str, str]:
    data = {
        "version": version,
        "reperage-posts-0-label": "Chargé de mission repérage", "reperage-posts-0-category": "staff",
        "reperage-posts-0-annual_cost": "42 000,50", "reperage-posts-0-fte": "0,5", "reperage-posts-0-months": "7",
        "reperage-cofinancing-0-funder": "Conseil départemental", "reperage-cofinancing-0-amount": "1 000",
        "reperage-cofinancing-0-status": "acquired", "reperage-requested": "",
        "sortie_emploi-posts-0-label": "", "sortie_emploi-cofinancing-0-funder": "", "sortie_emploi-requested": "",
    }
    return data | overrides


def test_resources_in_french_numbers_show_the_computed_financing(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=("public",), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/resources").get_data(as_text=True)
    response = client.post(f"/porteur/dossiers/{dossier.id}/sections/resources", data=resources_form(version_of(page)))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    post = stored.content["resources"]["reperage"]["posts"][0]
    assert post == {"label": "Chargé de mission repérage", "category": "staff", "annual_cost": "42000.50",
                    "fte": "0.50", "months": 7}
    # staff = R(42 000,50 × 0,5 × 7 / 12) = R(12 250,145833…) = 12 250,15
    assert stored.finance["result"]["strands"]["reperage"]["staff"] == "12250.15"
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/resources").get_data(as_text=True)
    assert "12\u202f250,15\u00a0€" in page
    assert "Base socle" in page and "Détail du calcul" in page
    assert 'value="42 000,50"' in page  # shown back in French


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reperage-posts-0-annual_cost": "quarante mille"}, "Saisissez un nombre"),
        ({"reperage-posts-0-fte": "1,5"}, "au plus 1"),
        ({"reperage-posts-0-months": "60"}, "Entre 1 et 48 mois."),
        ({"reperage-cofinancing-0-amount": "-3"}, "au moins 0"),
    ],
)
def test_invalid_resources_keep_input_and_say_why(client, login_as, users, db, make_dossier, overrides, message):
    dossier = make_dossier(users["applicant"], sections=("public",), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/resources").get_data(as_text=True)
    response = client.post(f"/porteur/dossiers/{dossier.id}/sections/resources",
                           data=resources_form(version_of(page), **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="Chargé de mission repérage"' in page
    assert 'value="Conseil départemental"' in page
    db.session.remove()
    assert "resources" not in db.session.get(Dossier, dossier.id).content


def test_project_duration_must_be_12_to_36_months(client, login_as, users, make_dossier):
    """The period is a rule of submission: the section saves, the dossier page says why it cannot go."""
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/project").get_data(as_text=True)
    response = client.post(f"/porteur/dossiers/{dossier.id}/sections/project", data={
        "version": version_of(page), "title": "Projet", "summary": "Résumé", "start_date": "2027-01-01",
        "end_date": "2027-06-30"})
    assert response.status_code == 302
    page = client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "de 12 à 36 mois (ici 6 mois)" in page


def test_only_qpv_of_the_call_list_can_be_picked(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/territories?q=amiens").get_data(as_text=True)
    assert "Quartier test Amiens" in page and "QN05901M" in page
    bad = client.post(f"/porteur/dossiers/{dossier.id}/sections/territories",
                      data={"version": version_of(page), "qpv_codes": ["QN05901M", "QN99999Z"]})
    assert bad.status_code == 422
    assert "QN99999Z" in bad.get_data(as_text=True)
    good = client.post(f"/porteur/dossiers/{dossier.id}/sections/territories",
                       data={"version": version_of(page), "qpv_codes": ["QN08001M"]})
    assert good.status_code == 302
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).content["territories"] == {"qpv_codes": ["QN08001M"]}


def test_consortium_answer_yes_is_explained_and_blocks(client, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"], attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/identification").get_data(as_text=True)
    response = client.post(f"/porteur/dossiers/{dossier.id}/sections/identification", data={
        "version": version_of(page), "contact_name": "K", "contact_email": "k@ml.fr", "consortium": "yes"})
    assert response.status_code == 302  # saved as answered, blocked at submission
    assert "n&#39;admet pas de consortium" in client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)
    assert "n&#39;admet pas de consortium" in client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True)


def test_two_tabs_saving_the_same_section(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=("project",), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/sections/project").get_data(as_text=True)
    stale = version_of(page)
    form = {"summary": "Résumé", "start_date": "2027-01-01", "end_date": "2028-12-31"}
    first = client.post(f"/porteur/dossiers/{dossier.id}/sections/project", data=form | {"version": stale, "title": "Onglet 1"})
    assert first.status_code == 302
    second = client.post(f"/porteur/dossiers/{dossier.id}/sections/project", data=form | {"version": stale, "title": "Onglet 2"})
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "modifié entre-temps" in page and 'value="Onglet 2"' in page
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).title == "Onglet 1"
    # Having seen the conflict, saving again from that page keeps the second tab's text.
    again = client.post(f"/porteur/dossiers/{dossier.id}/sections/project",
                        data=form | {"version": version_of(page), "title": "Onglet 2"})
    assert again.status_code == 302
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).title == "Onglet 2"


def test_dossier_page_lists_what_is_missing(client, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"], sections=("project",), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)
    assert "1 section complète sur 8" in page
    assert "Pièce manquante : Statuts de la structure." in page
    assert "Attestation sur l&#39;honneur non cochée." in page


# Attachments ----------------------------------------------------------------------------------


def upload(client, dossier_id: int, name: str, data: bytes, type_code: str = "statuts"):
    from io import BytesIO

    return client.post(
        f"/porteur/dossiers/{dossier_id}/pieces",
        data={f"file_{type_code}": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_and_download_as_attachment(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    response = upload(client, dossier.id, "../../Délibération n°3.pdf", SAMPLE_PDF)
    assert response.status_code == 302
    db.session.remove()
    attachment = db.session.get(Dossier, dossier.id).current_attachments[0]
    assert attachment.display_name == "Délibération n°3.pdf"
    assert attachment.storage_name not in attachment.display_name
    download = client.get(f"/dossiers/{dossier.id}/pieces/{attachment.id}")
    assert download.status_code == 200
    assert download.data == SAMPLE_PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("statuts.pdf", b"MZ\x90\x00" + b"\x00" * 200, "PDF, PNG, JPEG, ODT, ODS, DOCX ou XLSX"),
        ("statuts.pdf", b"<!doctype html><html><script>alert(1)</script></html>", "PDF, PNG, JPEG, ODT, ODS, DOCX ou XLSX"),
        ("vide.pdf", b"", "vide"),
    ],
)
def test_bad_uploads_are_refused_with_the_reason(client, login_as, users, db, make_dossier, name, data, message):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    response = upload(client, dossier.id, name, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert f"« {name} » refusé" in page
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).attachments == []


def test_oversized_upload_is_refused(client, app, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    previous = app.config["MAX_CONTENT_LENGTH"]
    # A limit of 0,25 Mo keeps the test body under Werkzeug's 500 Ko in-memory spool.
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024 + 64 * 1024
    try:
        big = SAMPLE_PDF[:-6] + b"0" * (300 * 1024) + b"%%EOF\n"
        response = upload(client, dossier.id, "gros.pdf", big)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = previous
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "« gros.pdf » refusé" in page and "taille maximale autorisée" in page
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).attachments == []


def test_replacing_a_required_attachment_keeps_one_current_file(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    upload(client, dossier.id, "v1.pdf", SAMPLE_PDF)
    upload(client, dossier.id, "v2.pdf", SAMPLE_PDF + b"\n")
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert [a.display_name for a in stored.current_attachments] == ["v2.pdf"]
    assert len(stored.attachments) == 2  # the first one is kept, marked removed


# Submission --------------------------------------------------------------------------------------


def test_incomplete_dossier_cannot_be_submitted_and_stays_draft(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=("project", "public"), attachments=False)
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True)
    assert "il reste à compléter" in page
    response = client.post(f"/porteur/dossiers/{dossier.id}/deposer", data={"version": str(dossier.version)},
                           follow_redirects=True)
    assert "Le dossier est incomplet" in response.get_data(as_text=True)
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert stored.state is DossierState.draft and stored.reference is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "dossier.submitted")) == 0


def submit(client, dossier_id: int):
    page = client.get(f"/porteur/dossiers/{dossier_id}/deposer").get_data(as_text=True)
    return client.post(f"/porteur/dossiers/{dossier_id}/deposer",
                       data={"version": re.search(r'name="version" value="(\d+)"', page).group(1) if 'name="version"' in page else "0"})


def test_submission_freezes_content_with_reference_hash_receipt_and_email(
    client, login_as, users, db, make_dossier, make_user, smtp_server, tmp_path
):
    user = users["applicant"]
    colleague = make_user(Role.applicant, structure=db.session.get(Structure, user.structure_id))
    dossier = make_dossier(user)
    login_as(user)
    response = submit(client, dossier.id)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert stored.state is DossierState.submitted
    assert stored.reference == f"{stored.call.code}-0001"  # the call's code once, then its number
    [version] = stored.versions
    assert len(version.sha256) == 64
    assert version.snapshot["content"] == COMPLETE_CONTENT
    assert {a["type_code"] for a in version.snapshot["attachments"]} == {a["code"] for a in stored.call.required_attachments}
    # Receipt: downloadable, and its text carries the reference and the hash.
    receipt = client.get(f"/dossiers/{dossier.id}/versions/1/accuse-reception.pdf")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(receipt.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert stored.reference in text
    assert version.sha256 in re.sub(r"\s+", "", text)
    # E-mail to every user of the structure.
    [message] = smtp_server.messages
    assert set(message["To"].split(", ")) == {user.email, colleague.email}
    assert stored.reference in message["Subject"]
    assert version.sha256 in message.get_content()
    # The draft is frozen: no more section edits.
    assert client.get(f"/porteur/dossiers/{dossier.id}/sections/project").status_code == 403


def test_references_have_no_gaps_after_a_refused_submission(client, login_as, users, db, make_dossier, make_call):
    call = make_call()
    incomplete = make_dossier(users["applicant"], call=call, sections=("project",), attachments=False)
    first = make_dossier(users["applicant"], call=call)
    second = make_dossier(users["other_applicant"], call=call)
    login_as(users["applicant"])
    submit(client, incomplete.id)  # refused
    submit(client, first.id)
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["other_applicant"])
    submit(client, second.id)
    db.session.remove()
    assert db.session.get(Dossier, first.id).reference == f"{call.code}-0001"
    assert db.session.get(Dossier, second.id).reference == f"{call.code}-0002"
    assert db.session.get(Dossier, incomplete.id).reference is None


@pytest.mark.parametrize(
    ("closing_paris", "label"),
    [
        (datetime(2023, 3, 26, 23, 59, tzinfo=PARIS), "reference call, after the spring change"),
        (datetime(2023, 3, 26, 3, 30, tzinfo=PARIS), "just after clocks jump 02:00 → 03:00"),
        (datetime(2023, 10, 29, 2, 30, fold=1, tzinfo=PARIS), "second 02:30 of the autumn change"),
        (datetime(2023, 10, 29, 3, 0, tzinfo=PARIS), "just after the autumn change"),
    ],
)
@pytest.mark.parametrize("delta", [-1, 1])
def test_deadline_by_the_server_clock(client, login_as, users, db, make_dossier, make_call, closing_paris, label, delta):
    closing = closing_paris.astimezone(UTC)
    with time_machine.travel(closing - timedelta(days=2), tick=False):
        call = make_call(opens_at=closing - timedelta(days=60), closes_at=closing)
        dossier = make_dossier(users["applicant"], call=call)
        login_as(users["applicant"])
        page = client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True)
    with time_machine.travel(closing + timedelta(seconds=delta), tick=False):
        login_as(users["applicant"])  # two days later: the first session has expired
        response = client.post(f"/porteur/dossiers/{dossier.id}/deposer",
                               data={"version": version_of(page)}, follow_redirects=True)
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    if delta < 0:
        assert stored.state is DossierState.submitted, label
        assert stored.submitted_at == closing - timedelta(seconds=1)
    else:
        assert stored.state is DossierState.draft, label
        assert "date limite de dépôt" in response.get_data(as_text=True)
        assert "brouillon est conservé" in response.get_data(as_text=True)
        assert stored.content == COMPLETE_CONTENT


def test_submission_received_before_closing_is_on_time_even_if_processed_after(
    app, client, login_as, users, db, make_dossier, make_call
):
    """At the deadline, submissions queue behind each other: the arrival time counts."""
    closing = datetime(2027, 3, 26, 22, 59, tzinfo=UTC)
    with time_machine.travel(closing - timedelta(days=2), tick=False):
        call = make_call(opens_at=closing - timedelta(days=60), closes_at=closing)
        dossier = make_dossier(users["applicant"], call=call)

    def wait_behind_others() -> None:  # runs after the arrival is noted
        if request.method == "POST":
            traveller.shift(timedelta(seconds=20))

    with time_machine.travel(closing - timedelta(seconds=5), tick=False) as traveller:
        login_as(users["applicant"])
        page = client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True)
        app.before_request_funcs[None].append(wait_behind_others)
        try:
            client.post(f"/porteur/dossiers/{dossier.id}/deposer", data={"version": version_of(page)})
        finally:
            app.before_request_funcs[None].remove(wait_behind_others)
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert stored.state is DossierState.submitted
    assert stored.submitted_at == closing - timedelta(seconds=5)


def test_withdraw_needs_confirmation_and_keeps_dossier_readable(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"])
    login_as(users["applicant"])
    submit(client, dossier.id)
    unconfirmed = client.post(f"/porteur/dossiers/{dossier.id}/retirer", data={})
    assert "Cochez la case pour confirmer le retrait." in unconfirmed.get_data(as_text=True)
    confirmed = client.post(f"/porteur/dossiers/{dossier.id}/retirer", data={"confirm": "y"})
    assert confirmed.status_code == 302
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert stored.state is DossierState.withdrawn and stored.withdrawn_at is not None
    page = client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)
    assert "Retiré" in page and stored.reference in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.withdrawn"))
    assert (entry.from_state, entry.to_state) == ("submitted", "withdrawn")


def test_home_lists_the_structure_dossiers_for_every_colleague(client, login_as, users, db, make_dossier, make_user):
    user = users["applicant"]
    dossier = make_dossier(user, sections=("project",), attachments=False)
    colleague = make_user(Role.applicant, structure=db.session.get(Structure, user.structure_id))
    login_as(colleague)
    page = client.get("/").get_data(as_text=True)
    assert "Aller vers les jeunes des quartiers" in page and "Brouillon" in page
    assert client.get(f"/porteur/dossiers/{dossier.id}/sections/project").status_code == 200


@pytest.mark.parametrize(
    ("configured", "stamp_offset", "expected"),
    [
        ("X-Request-Start", -2, DossierState.submitted),  # the proxy received it before the closing
        (None, -2, DossierState.draft),  # not configured: a header anyone could send is ignored
        ("X-Request-Start", +1, DossierState.draft),  # received by the proxy after the closing
        ("X-Request-Start", -600, DossierState.draft),  # older than any plausible wait: ignored
    ],
)
def test_proxy_arrival_time_counts_when_configured(
    app, client, login_as, users, db, make_dossier, make_call, monkeypatch, configured, stamp_offset, expected
):  # type: ignore[no-untyped-def]
    """A request the reverse proxy received before the closing, but that waited for a free
    worker thread, is on time (nginx: ``proxy_set_header X-Request-Start "t=${msec}";``)."""
    closing = datetime(2027, 3, 26, 22, 59, tzinfo=UTC)
    with time_machine.travel(closing - timedelta(days=2), tick=False):
        call = make_call(opens_at=closing - timedelta(days=60), closes_at=closing)
        dossier = make_dossier(users["applicant"], call=call)
    monkeypatch.setitem(app.config, "REQUEST_START_HEADER", configured)
    with time_machine.travel(closing - timedelta(seconds=30), tick=False):
        login_as(users["applicant"])
        page = client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True)
    with time_machine.travel(closing + timedelta(seconds=3), tick=False):
        stamp = (closing + timedelta(seconds=stamp_offset)).timestamp()
        client.post(f"/porteur/dossiers/{dossier.id}/deposer", data={"version": version_of(page)},
                    headers={"X-Request-Start": f"t={stamp:.3f}"})
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).state is expected


@pytest.mark.parametrize("value", ["", "t=", "t=abc", "t=nan", "t=inf", "t=1e400", "-1e20", "t=99999999999999"])
def test_proxy_arrival_header_that_is_not_a_time_is_ignored(value):  # type: ignore[no-untyped-def]
    from grants import proxy_arrival

    assert proxy_arrival(value) is None


def test_proxy_arrival_reads_nginx_msec():  # type: ignore[no-untyped-def]
    from grants import proxy_arrival

    assert proxy_arrival("t=1774565940.250") == datetime(2026, 3, 26, 22, 59, 0, 250000, tzinfo=UTC)
    assert proxy_arrival("1774565940") == datetime(2026, 3, 26, 22, 59, tzinfo=UTC)
