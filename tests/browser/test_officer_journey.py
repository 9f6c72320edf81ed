"""An officer takes a demo dossier from déposé to instruit, with a complement on the way."""

from __future__ import annotations

import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from grants.demo import DEMO_ACCOUNTS

from .conftest import login
from .test_login import serious_violations

OFFICER = next(a for a in DEMO_ACCOUNTS if a["email"] == "instructeur@dreets-hdf.demo")
APPLICANT = next(a for a in DEMO_ACCOUNTS if a["email"] == "porteur@ml-valenciennois.demo")
TITLE = "Aller vers les jeunes des quartiers du Valenciennois"


def open_tab(page, name: str, panel: str) -> None:  # type: ignore[no-untyped-def]
    """Click a DSFR tab once its script is ready, and wait for the panel to show."""
    page.wait_for_load_state("load")
    page.get_by_role("tab", name=name).click()
    expect(page.locator(panel)).to_be_visible()


def expect_success(page, text: str) -> None:  # type: ignore[no-untyped-def]
    problems = page.locator(".fr-alert--error, .fr-error-text, .fr-message--error").all_inner_texts()
    assert problems == [], problems
    expect(page.locator(".fr-alert--success")).to_contain_text(text)


def logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Se déconnecter").first.click()
    page.wait_for_load_state("domcontentloaded")


def test_officer_complement_admissibility_instruction_export(page, live_server, tmp_path):
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    page.get_by_role("link", name=re.compile(r"dossiers? de l'appel AAP-QPV-DEMO")).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Dossiers déposés"
    assert serious_violations(page) == []
    # The demo Valenciennois dossier is the first submitted one (other tests may add more).
    page.get_by_role("link", name=re.compile(r"^AAP-QPV-DEMO-0001$")).click()
    page.wait_for_load_state("domcontentloaded")
    dossier_url = page.url
    assert TITLE in page.get_by_role("heading", level=1).inner_text()
    assert serious_violations(page) == []

    # Request a complement on the project section.
    open_tab(page, "Recevabilité", "#panel-recevabilite")
    project = page.locator("input[name='sections'][value='project']")
    page.locator(f"label[for='{project.get_attribute('id')}']").click()
    expect(project).to_be_checked()
    page.get_by_label("Message au porteur").fill("Précisez le calendrier des maraudes.")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, "Demande de compléments envoyée")
    assert "Compléments demandés" in page.locator("main").inner_text()
    logout(page)

    # The applicant answers it.
    login(page, live_server, APPLICANT["email"], APPLICANT["password"])
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Section « Projet et période »").click()
    page.get_by_label("Résumé du projet").fill("Maraudes chaque mardi et jeudi dès janvier 2027.")
    page.get_by_role("button", name="Enregistrer la section").click()
    page.wait_for_load_state("domcontentloaded")
    page.get_by_role("button", name="Envoyer les compléments").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, "Compléments envoyés : version n° 2")
    logout(page)

    # The officer sees the new version, declares the dossier recevable and instructs it.
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    page.goto(dossier_url)
    open_tab(page, "Versions et pièces", "#panel-versions")
    assert "Modifié depuis la version 1 : Projet et période." in page.locator("main").inner_text()
    open_tab(page, "Recevabilité", "#panel-recevabilite")
    for code in ("signatory", "tax_social", "not_completed"):
        page.locator(f"label[for='value_{code}-0']").click()
    page.get_by_role("button", name="Déclarer recevable").click()
    page.get_by_role("dialog", name="Déclarer le dossier recevable ?").get_by_role(
        "button", name="Déclarer recevable").click()  # the decision is confirmed first
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, "Dossier déclaré recevable")

    page.get_by_role("link", name="Instruire").click()
    page.locator("input[name='reperage-nb_jeunes_qpv']").fill("100")
    page.locator("label[for='opinion-0']").click()
    page.get_by_label("Motivation de l'avis").fill("Projet cohérent ; effectif de repérage ramené à 100 jeunes.")
    page.get_by_role("button", name="Enregistrer et recalculer").click()
    page.wait_for_load_state("domcontentloaded")
    comparison = page.locator("table", has_text="Demandé et retenu").inner_text()
    assert "-12\u202f800,00\u00a0€" in comparison  # base socle: 1 600 × 40 % × 20 jeunes de moins
    page.get_by_role("button", name="Clore l'instruction").click()
    page.get_by_role("dialog", name="Clore l'instruction ?").get_by_role("button", name="Clore l'instruction").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Instruit" in page.locator("main").inner_text()

    # The export of the queue downloads and opens.
    page.goto(dossier_url)
    page.get_by_role("link", name=re.compile("Dossiers AAP-QPV-DEMO")).click()
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"Exporter en Excel \(XLSX\)")).click()
    path = tmp_path / "export.xlsx"
    info.value.save_as(path)
    workbook = load_workbook(path, read_only=True)
    rows = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    assert any(TITLE in " ".join(str(v) for v in r if v is not None) or "Valenciennois" in " ".join(str(v) for v in r if v is not None) for r in rows[1:])
    assert any("Instruit" in [str(v) for v in r] for r in rows[1:])
