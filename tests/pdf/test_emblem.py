"""The European Union emblem with « Cofinancé par l'Union européenne » on every PDF (issue 15,
item 6; art. 47 and 50 of Regulation (EU) 2021/1060): drawn from its official geometric
description, as vectors, in the shared header of ``pdf/base.html``; PDF/A-3u still holds."""

from __future__ import annotations

import io
import math
import subprocess
import tempfile
from decimal import Decimal

import pytest
from PIL import Image

from grants import emblem as eu
from grants.models import CommitteeSession, Decision, Dossier
from grants.operations import committee as ops
from grants.operations import documents
from tests.operations.test_committee import instructed, officer_of, session_with  # noqa: F401  (fixtures)
from tests.pdf.pdfa import assert_pdfa_3
from tests.pdftools import pdf_words


def test_the_emblem_follows_its_geometric_description():
    """A 3:2 blue rectangle; twelve gold stars at the hours of a clock face on a circle of a
    third of the height around the centre; five points on a circle of an eighteenth of the
    height; upright."""
    assert eu.WIDTH / eu.HEIGHT == 1.5
    assert (eu.BLUE, eu.YELLOW) == ("#003399", "#FFCC00")
    centre = (eu.WIDTH / 2, eu.HEIGHT / 2)
    stars = eu.star_centres()
    assert len(stars) == 12
    for hour, (x, y) in enumerate(stars):
        assert math.dist((x, y), centre) == pytest.approx(eu.HEIGHT / 3)
        angle = math.degrees(math.atan2(x - centre[0], centre[1] - y)) % 360  # clockwise from twelve o'clock
        assert angle == pytest.approx(30 * hour, abs=1e-9)
        corners = eu.star_points(x, y)
        outer, inner = corners[0::2], corners[1::2]
        assert len(outer) == len(inner) == 5
        assert all(math.dist(p, (x, y)) == pytest.approx(eu.HEIGHT / 18) for p in outer)
        # Upright: the first point straight up, whatever the star's place on the circle.
        assert outer[0][0] == pytest.approx(x) and outer[0][1] == pytest.approx(y - eu.HEIGHT / 18)
        # A regular five-pointed star: its inner corners on the golden-ratio circle.
        assert all(math.dist(p, (x, y)) == pytest.approx(eu.HEIGHT / 18 * 0.381966, rel=1e-5) for p in inner)


def test_the_header_draws_twelve_stars_on_blue_with_the_statement(app):
    from grants.pdf import render_html

    with app.app_context():
        html = render_html("pdf/receipt.html", receipt_context(), title="Accusé de réception")
    header = html[html.index('<header class="pdf-header">'):html.index("</header>")]
    assert header.count("<polygon ") == 12 and 'fill="#FFCC00"' in header and 'fill="#003399"' in header
    assert 'viewBox="0 0 27 18"' in header and "aria-label=\"Emblème de l'Union européenne\"" in header
    assert "Cofinancé par<br>l'Union européenne" in header


def receipt_context() -> dict[str, object]:
    from datetime import UTC, datetime

    return {
        "reference": "AAP-QPV-DEMO-0001", "call": {"code": "AAP-QPV-DEMO", "title": "Appel"},
        "structure": {"name": "Mission locale", "siret": "13002526500013"}, "submitted_at": datetime.now(UTC),
        "submitted_by": "Karim", "snapshot_sha256": "0" * 64, "version_number": 1, "project_title": "Projet",
        "attachments": [], "fse_requested_total": Decimal("1000.00"),
    }


def blue_share(pdf: bytes) -> float:
    """The share of the first page, rendered at 30 dpi, painted in the emblem's blue."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        png = subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", file.name],
                             check=True, capture_output=True).stdout
    image = Image.open(io.BytesIO(png)).convert("RGB")
    data = image.tobytes()
    pixels = [data[i:i + 3] for i in range(0, len(data), 3)]
    blue = sum(1 for r, g, b in pixels if r < 40 and 30 < g < 80 and 130 < b < 180)
    return blue / len(pixels)


def test_every_document_carries_the_emblem_and_stays_pdfa(app, db, users, instructed, session_with, store,  # noqa: F811
                                                           make_submitted):
    """Receipt, fiche, pack, minutes and the three letters: the statement in the text, the
    blue flag on the page, PDF/A-3u identification kept."""
    from grants.models import AdmissibilityOutcome
    from grants.operations import review

    dossiers = [instructed(), instructed(users["other_applicant"])]
    session_id = session_with(instructed.call, dossiers)
    inadmissible = make_submitted(users["applicant"], call=instructed.call)
    with app.test_request_context():
        officer = officer_of(db, users)
        checklist = review.get_review(db.session.get(Dossier, inadmissible.id))
        review.save_checklist(checklist, {"signatory": {"value": "fail", "comment": "Pas de délégation."}},
                              officer, None)
        review.record_admissibility(checklist, AdmissibilityOutcome.inadmissible, "Signataire non habilité.",
                                    officer, store=store)
        db.session.commit()
        refused = store.read(checklist.letter_file)
        session = db.session.get(CommitteeSession, session_id)
        officer = officer_of(db, users)
        pack = documents.committee_pack(session, store=store)
        fiche, _render = documents.fiche_pdf(session.items[0].dossier, store=store)
        ops.record_decision(session.items[0], Decision.selected, officer)
        ops.record_decision(session.items[1], Decision.rejected, officer, motive="Hors QPV.")
        ops.close_session(session, officer, store=store)
        db.session.commit()
        minutes = store.read(session.minutes_file)
        selected, rejected = (store.read(item.letter_file) for item in session.items)
        first = db.session.get(Dossier, dossiers[0].id)
        receipt = store.read(first.versions[0].receipt_file)
    documents_by_title = {
        f"Accusé de réception {first.reference}": receipt,
        f"Fiche de synthèse {first.reference}": fiche,
        "pack": pack, "minutes": minutes,
        "selected": selected, "rejected": rejected, "inadmissible": refused,
    }
    for name, pdf in documents_by_title.items():
        assert "Cofinancé par l'Union européenne" in pdf_words(pdf), name
        assert blue_share(pdf) > 0.001, name  # the flag is drawn (about 0,4 % of an A4 page)
    assert_pdfa_3(receipt, f"Accusé de réception {first.reference}")
    assert_pdfa_3(fiche, f"Fiche de synthèse {first.reference}")
    with app.app_context():
        assert_pdfa_3(minutes, documents.minutes_title(db.session.get(CommitteeSession, session_id)))
