"""The preview of a pièce: PDFs and images shown inline under their own restrictive CSP,
every other type downloaded as an attachment; never sniffed, never cached."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.models import Attachment, AuditEntry, Dossier, User
from grants.operations.dossiers import add_attachment, submit_dossier
from tests.conftest import SAMPLE_PDF
from tests.uploads.test_uploads import JPEG, ODT, png

PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
ODT_MIME = "application/vnd.oasis.opendocument.text"
FILES = {
    "pdf": ("statuts.pdf", SAMPLE_PDF, "application/pdf"),
    "png": ("plan-du-quartier.png", png(), "image/png"),
    "jpeg": ("photo-locaux.jpg", JPEG, "image/jpeg"),
    "odt": ("compte-rendu.odt", ODT, ODT_MIME),
}


@pytest.fixture
def pieces(app, db, users, make_dossier, store):
    """A submitted dossier with a PDF, a PNG, a JPEG and an ODT; their ids by kind."""
    dossier = make_dossier(users["applicant"], attachments=True)
    ids = {}
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        applicant = db.session.get(User, users["applicant"].id)
        for kind, (name, data, _mime) in FILES.items():
            if kind == "pdf":
                ids[kind] = next(a.id for a in dossier.attachments if a.type_code == "statuts")
                continue
            ids[kind] = add_attachment(dossier, "autre", name, data, applicant, store=store,
                                       max_bytes=10 * 1024 * 1024).id
        submit_dossier(dossier, applicant, store=store, expected_version=dossier.version)
        db.session.commit()
    return dossier.id, ids


def preview(client, dossier_id, attachment_id):  # noqa: ANN001
    return client.get(f"/dossiers/{dossier_id}/pieces/{attachment_id}/apercu")


@pytest.mark.parametrize("who", ["applicant", "officer"])
@pytest.mark.parametrize("kind", ["pdf", "png", "jpeg"])
def test_pdfs_and_images_are_shown_inline_under_their_own_csp(client, db, login_as, users, pieces, who, kind):
    dossier_id, ids = pieces
    login_as(users[who])
    response = preview(client, dossier_id, ids[kind])
    assert response.status_code == 200
    stored = db.session.get(Attachment, ids[kind])
    assert response.mimetype == FILES[kind][2] == stored.mime
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert stored.display_name in response.headers["Content-Disposition"]
    assert response.headers["Content-Security-Policy"] == PREVIEW_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.get_data() == (FILES[kind][1] if kind != "pdf" else SAMPLE_PDF)


@pytest.mark.parametrize("who", ["applicant", "officer"])
def test_other_types_are_downloaded_not_shown(client, db, login_as, users, pieces, who):
    dossier_id, ids = pieces
    login_as(users[who])
    response = preview(client, dossier_id, ids["odt"])
    assert response.status_code == 200
    assert response.mimetype == ODT_MIME
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "compte-rendu.odt" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] != PREVIEW_CSP
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.get_data() == ODT


def test_staff_previews_are_audited_as_previews_or_downloads(client, db, login_as, users, pieces):
    dossier_id, ids = pieces
    login_as(users["officer"])
    assert preview(client, dossier_id, ids["png"]).status_code == 200
    assert preview(client, dossier_id, ids["odt"]).status_code == 200
    db.session.remove()
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "dossier.download", AuditEntry.object_id == dossier_id).order_by(AuditEntry.id)).all()
    assert [(e.details["kind"], e.details["file"]) for e in entries] == [
        ("attachment_preview", "plan-du-quartier.png"), ("attachment", "compte-rendu.odt")]


@pytest.mark.parametrize(("who", "expected"), [("other_applicant", 404), ("committee", 404), ("anonymous", 302)])
def test_preview_is_refused_to_others(client, login_as, users, pieces, who, expected):
    dossier_id, ids = pieces
    if who != "anonymous":
        login_as(users[who])
    for attachment_id in ids.values():
        assert preview(client, dossier_id, attachment_id).status_code == expected


def test_a_piece_of_another_dossier_is_404(client, login_as, users, pieces, make_dossier):
    dossier_id, ids = pieces
    other = make_dossier(users["applicant"], attachments=True)
    login_as(users["applicant"])
    assert preview(client, other.id, ids["pdf"]).status_code == 404
