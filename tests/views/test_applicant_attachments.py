"""The pièces page (issue 15, item 12): several files in one sending, the limit stated next
to each input, an oversized file or sending refused on the same page with the reason."""

from __future__ import annotations

import html
import re
from io import BytesIO

import pytest
from sqlalchemy import func, select

from grants.models import AuditEntry, Dossier
from tests.conftest import SAMPLE_PDF


def pieces(dossier_id: int) -> str:
    return f"/porteur/dossiers/{dossier_id}/pieces"


def send(client, dossier_id: int, files: dict[str, list[tuple[bytes, str]]]):  # type: ignore[no-untyped-def]
    data = {f"file_{code}": [(BytesIO(content), name) for content, name in chosen] for code, chosen in files.items()}
    return client.post(pieces(dossier_id), data=data, content_type="multipart/form-data", csrf_from=pieces(dossier_id))


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def pdf(n: int) -> bytes:
    return SAMPLE_PDF + b"%" + str(n).encode() + b"\n"


def test_every_required_piece_in_one_sending(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    required = [item["code"] for item in dossier.call.required_attachments]
    login_as(users["applicant"])
    page = text(client.get(pieces(dossier.id)))
    for code in required:
        assert f'id="file_{code}"' in page
    assert 'id="file_autre"' in page and re.search(r'<input[^>]*id="file_autre"[^>]*multiple', page)
    assert "10 Mo au plus par fichier" in page and f'data-max-bytes="{10 * 1024 * 1024}"' in page

    files = {code: [(pdf(n), f"{code}.pdf")] for n, code in enumerate(required)}
    files["autre"] = [(pdf(90), "annexe 1.pdf"), (pdf(91), "annexe 2.pdf")]
    response = send(client, dossier.id, files)
    assert response.status_code == 302
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    assert sorted(a.type_code for a in stored.current_attachments) == sorted([*required, "autre", "autre"])
    page = text(client.get(pieces(dossier.id)))
    assert f"{len(required) + 2} pièces jointes au dossier" in page and "« annexe 2.pdf »" in page
    entries = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "dossier.add_attachment")
    assert db.session.scalar(entries) == len(required) + 2


def test_a_refused_file_does_not_stop_the_others_and_says_why_next_to_its_input(
    client, login_as, users, db, make_dossier
):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    response = send(client, dossier.id, {
        "statuts": [(pdf(1), "statuts.pdf")],
        "rib": [(b"MZ\x90\x00" + b"\x00" * 200, "rib.pdf")],
    })
    page = text(response)
    assert response.status_code == 422
    assert "1 pièce jointe au dossier : « statuts.pdf »" in page
    assert re.search(r'id="file_rib-messages"[^>]*>« rib\.pdf » refusé : Format de fichier non accepté', page)
    summary = re.search(r"<div[^>]*data-error-summary.*?</div>", page, re.S).group(0)
    assert "Le formulaire contient 1 erreur" in summary and 'href="#file_rib"' in summary
    db.session.remove()
    assert [a.type_code for a in db.session.get(Dossier, dossier.id).current_attachments] == ["statuts"]


def test_nothing_chosen_is_said(client, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    response = send(client, dossier.id, {})
    assert response.status_code == 422
    assert "Choisissez au moins un fichier à joindre." in text(response)


def test_too_many_files_at_once_are_refused_before_any_is_stored(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    response = send(client, dossier.id, {"autre": [(pdf(n), f"annexe {n}.pdf") for n in range(11)]})
    assert response.status_code == 422
    assert "11 fichiers choisis : joignez-en 10 au plus à la fois." in text(response)
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).attachments == []


@pytest.fixture
def small_limits(app):  # type: ignore[no-untyped-def]
    """A per-file limit of 32 ko: a sending above 10 × 32 ko stays under Werkzeug's 500 ko
    in-memory spool (a test body above it leaves a temporary file open)."""
    previous = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 32 * 1024 + 64 * 1024
    yield
    app.config["MAX_CONTENT_LENGTH"] = previous


def test_a_file_above_the_limit_is_refused_on_the_same_page(client, login_as, users, db, make_dossier, small_limits):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    big = SAMPLE_PDF[:-6] + b"0" * (40 * 1024) + b"%%EOF\n"
    response = send(client, dossier.id, {"statuts": [(big, "gros.pdf")], "rib": [(pdf(1), "rib.pdf")]})
    page = text(response)
    assert response.status_code == 422
    assert "« gros.pdf » refusé : Le fichier dépasse la taille maximale autorisée (32 ko)." in page
    assert "1 pièce jointe au dossier : « rib.pdf »" in page


def test_a_sending_above_the_request_limit_gets_the_page_back_not_a_bare_413(
    client, login_as, users, db, make_dossier, small_limits
):
    """11 Mo ended on « Erreur 413 » with only « Page d'accueil »."""
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    huge = SAMPLE_PDF[:-6] + b"0" * (420 * 1024) + b"%%EOF\n"
    response = send(client, dossier.id, {"statuts": [(huge, "enorme.pdf")]})
    page = text(response)
    assert response.status_code == 413
    assert "<h1>Pièces jointes</h1>" in page
    assert "L'envoi dépasse 0,3 Mo au total : aucun fichier n'a été joint. Chaque fichier peut faire jusqu'à 32 ko" in page
    assert 'id="file_statuts"' in page and "Page d'accueil" not in page
    db.session.remove()
    assert db.session.get(Dossier, dossier.id).attachments == []


def test_a_request_above_the_limit_elsewhere_keeps_the_plain_413_page(
    client, login_as, users, db, make_dossier, small_limits
):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    url = f"/porteur/dossiers/{dossier.id}/sections/project"
    response = client.post(url, data={"title": "x" * (120 * 1024)}, csrf_from=url)
    assert response.status_code == 413
    assert "Fichier trop volumineux" in text(response)
