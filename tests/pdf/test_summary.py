"""The récapitulatif of a dossier (issue 15, item 14): the whole dossier in one PDF, from
the working copy before submission and from the frozen version after, besides the receipt;
and the submission page that shows the whole dossier for a last read."""

from __future__ import annotations

import re

import pytest

from grants.dossier_sections import stored_result
from grants.finance import FIGURES, STRANDS
from grants.formatting import money
from grants.models import Dossier, Role, Structure
from tests.pdf.pdfa import assert_pdfa_3
from tests.pdftools import pdf_lines, pdf_words, plain


def summary(client, dossier_id: int, version: int | None = None):  # type: ignore[no-untyped-def]
    query = f"?version={version}" if version else ""
    return client.get(f"/porteur/dossiers/{dossier_id}/recapitulatif.pdf{query}")


def test_draft_summary_prints_every_section_the_plan_and_what_is_missing(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], attachments=False)
    login_as(users["applicant"])
    response = summary(client, dossier.id)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename=recapitulatif-brouillon-{dossier.id}.pdf"
    pdf = response.data
    assert_pdfa_3(pdf, "Récapitulatif du dossier (brouillon)")
    words = pdf_words(pdf)
    for heading in ("Structure porteuse", "1. Identification", "2. Projet et période", "3. Territoires",
                    "4. Public et objectifs", "5. Moyens par volet", "6. Indicateurs", "7. Pièces jointes",
                    "8. Attestation sur l'honneur", "Plan de financement", "Détail du calcul"):
        assert heading in words
    assert "Brouillon non déposé" in words and "n'atteste d'aucun dépôt" in words
    assert "Reste à compléter avant le dépôt" in words
    assert "Pièce manquante : Statuts de la structure." in words
    for text in ("Aller vers les jeunes des quartiers", "Karim Démo", "Quartier test Lille", "Chargé de mission repérage",
                 "Claire Exemple, Présidente", "du 01/01/2027 au 31/12/2028"):
        assert text in words
    # The plan's figures are the stored plan's, to the cent, on the row of each figure.
    db.session.remove()
    result = stored_result(db.session.get(Dossier, dossier.id).finance)
    lines = pdf_lines(pdf)
    base_row = next(line for line in lines if line.startswith("Base subventionnable "))
    assert base_row == "Base subventionnable " + " ".join(
        plain(money(result.strands[s]["base"])) for s in STRANDS) + " " + plain(money(result.totals["base"]))
    for key in FIGURES:
        assert plain(money(result.totals[key])) in words


def test_submitted_summary_is_the_frozen_version_with_its_hash(client, login_as, users, db, make_submitted, app):
    dossier = make_submitted(users["applicant"])
    # Changing the profile afterwards does not change what was submitted.
    structure = db.session.get(Structure, users["applicant"].structure_id)
    structure.legal_rep_name = "Quelqu'un d'autre"
    db.session.commit()
    login_as(users["applicant"])
    db.session.remove()
    stored = db.session.get(Dossier, dossier.id)
    version = stored.versions[0]
    for response in (summary(client, dossier.id), summary(client, dossier.id, 1)):
        assert response.status_code == 200
        assert (response.headers["Content-Disposition"]
                == f"attachment; filename=recapitulatif-{stored.reference}-v1.pdf")
        words = pdf_words(response.data)
        assert f"Récapitulatif du dossier {stored.reference}" in words
        assert "Version n° 1 déposée le" in words
        assert version.sha256 in re.sub(r"\s+", "", words)
        assert "Brouillon" not in words and "Reste à compléter" not in words
        assert "Claire Exemple" in words and "Quelqu'un d'autre" not in words
        assert "statuts.pdf" in words
    assert summary(client, dossier.id, 7).status_code == 404


@pytest.mark.parametrize("who", ["other_applicant", "officer", "committee"])
def test_only_the_structure_gets_its_summary(client, login_as, users, make_dossier, who):
    dossier = make_dossier(users["applicant"], attachments=False)
    login_as(users[who])
    assert summary(client, dossier.id).status_code in (403, 404)


def test_submission_page_shows_the_whole_dossier_and_links_the_summary(client, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"])
    login_as(users["applicant"])
    page = plain(client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True).replace("&#39;", "'"))
    for text in ("1. Identification", "2. Projet et période", "3. Territoires", "4. Public et objectifs",
                 "5. Moyens par volet", "6. Indicateurs", "7. Pièces jointes", "8. Attestation sur l'honneur",
                 "Karim Démo", "Repérage et accompagnement.", "Quartier test Lille", "Chargé de mission repérage",
                 "Jeunes repérés : 250", "statuts.pdf", "Claire Exemple, Présidente", "Plan de financement qui sera déposé"):
        assert text in page, text
    assert f'href="/porteur/dossiers/{dossier.id}/recapitulatif.pdf"' in page
    assert 'data-confirm="confirm-submit"' in page and 'id="confirm-submit"' in page
    # The dossier page links the summary too: the draft's, then each version's beside its receipt.
    assert f'href="/porteur/dossiers/{dossier.id}/recapitulatif.pdf"' in client.get(
        f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)


def test_submitted_dossier_page_links_each_version_summary(client, login_as, users, make_submitted):
    dossier = make_submitted(users["applicant"])
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)
    assert f'href="/porteur/dossiers/{dossier.id}/recapitulatif.pdf?version=1"' in page
    assert f'href="/dossiers/{dossier.id}/versions/1/accuse-reception.pdf"' in page


def test_a_colleague_gets_the_summary_too(client, login_as, users, db, make_dossier, make_user):
    dossier = make_dossier(users["applicant"], attachments=False)
    colleague = make_user(Role.applicant, structure=db.session.get(Structure, users["applicant"].structure_id))
    login_as(colleague)
    assert summary(client, dossier.id).status_code == 200
