"""An applicant fills a whole dossier in Chromium, submits it and gets the receipt."""

from __future__ import annotations

import re
import subprocess

from grants.demo import DEMO_ACCOUNTS
from tests.conftest import SAMPLE_PDF

from .conftest import login
from .test_login import serious_violations

APPLICANT = next(a for a in DEMO_ACCOUNTS if a["email"] == "porteur@ml-valenciennois.demo")


def open_section(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name=re.compile(rf"^(Remplir|Modifier) la section {re.escape(title)}$")).click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_role("heading", level=1).inner_text() == title


def save(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Enregistrer la section").click()
    page.wait_for_load_state("domcontentloaded")
    errors = page.locator(".fr-error-text, .fr-message--error").all_inner_texts()
    assert errors == [], errors


def test_applicant_fills_submits_and_downloads_receipt(page, live_server, tmp_path):
    login(page, live_server, APPLICANT["email"], APPLICANT["password"])
    page.get_by_role("link", name=re.compile("Voir l'appel et déposer un dossier")).first.click()
    page.get_by_role("button", name="Commencer un dossier").click()
    page.wait_for_load_state("domcontentloaded")
    assert "0 section complète sur 8" in page.locator("main").inner_text()

    open_section(page, "Identification")
    page.get_by_label("Responsable du projet").fill("Karim Démo")
    page.get_by_label("Son courriel").fill("karim@ml-valenciennois.demo")
    # DSFR draws radios and checkboxes on their label: click it, as a person does.
    page.get_by_text("Non, notre structure répond seule").click()
    save(page)

    open_section(page, "Projet et période")
    page.get_by_label("Intitulé du projet").fill("Aller vers les jeunes du Valenciennois")
    page.get_by_label("Résumé du projet").fill("Maraudes, permanences en pied d'immeuble, job-dating.")
    page.get_by_label("Début de l'opération").fill("2027-01-01")
    page.get_by_label("Fin de l'opération").fill("2028-12-31")
    save(page)

    open_section(page, "Territoires")
    page.get_by_label("Filtrer les QPV").fill("valenciennes")
    visible = page.locator("#qpv-options .qpv-option:not([hidden]) label")
    assert visible.count() >= 1
    assert all("Valenciennes" in text for text in visible.all_inner_texts())
    visible.first.click()
    save(page)

    open_section(page, "Public et objectifs")
    for name, value in {
        "reperage-nb_jeunes": "150", "reperage-nb_jeunes_qpv": "120",
        "sortie_emploi-nb_jeunes": "100", "sortie_emploi-nb_jeunes_qpv": "80",
        "age_min": "16", "age_max": "25", "cej_qpv_share_current": "18,5", "cej_qpv_share_target": "30",
    }.items():
        page.locator(f"input[name='{name}']").fill(value)
    save(page)

    open_section(page, "Moyens par volet")
    for name, value in {
        "reperage-posts-0-label": "Chargé de mission repérage", "reperage-posts-0-annual_cost": "42 000,00",
        "reperage-posts-0-fte": "1", "reperage-posts-0-months": "24",
        "sortie_emploi-posts-0-label": "Chargé relations entreprises",
        "sortie_emploi-posts-0-annual_cost": "40 000", "sortie_emploi-posts-0-fte": "1",
        "sortie_emploi-posts-0-months": "24",
    }.items():
        page.locator(f"input[name='{name}']").fill(value)
    save(page)
    table = page.locator("#plan-de-financement table").inner_text()
    assert "76\u202f800,00\u00a0€" in table  # base socle repérage = 1 600 × 40 % × 120
    assert "116\u202f640,00\u00a0€" in table  # FSE+ maximum repérage = 60 % × 194 400
    assert serious_violations(page) == []

    page.get_by_role("link", name="Retour au dossier").click()
    open_section(page, "Indicateurs")
    for name in ("identified", "identified_qpv", "cej_entries", "exits_employment", "exits_training",
                 "exits_apprenticeship", "retention_6_months"):
        page.locator(f"input[name='{name}']").fill("10")
    save(page)

    open_section(page, "Attestation sur l'honneur")
    page.get_by_label("Nom du signataire").fill("Claire Exemple")
    page.get_by_label("Qualité du signataire").fill("Présidente")
    page.locator("label[for='sworn']").click()
    save(page)

    page.get_by_role("link", name="Gérer les pièces du dossier").click()
    # Every required pièce in one sending, one file per input (issue 15, item 12).
    inputs = page.locator("input[type=file]")
    for index in range(6):
        sample = tmp_path / f"piece-{index}.pdf"
        sample.write_bytes(SAMPLE_PDF + b"%" + str(index).encode() + b"\n")
        inputs.nth(index).set_input_files(str(sample))
    page.get_by_role("button", name="Joindre les fichiers choisis").click()
    page.wait_for_load_state("domcontentloaded")
    assert "6 pièces jointes au dossier" in page.locator(".fr-alert").first.inner_text()
    # a renamed executable is refused with the reason, nothing lost
    fake = tmp_path / "virus.pdf"
    fake.write_bytes(b"MZ" + b"\x00" * 100)
    page.locator("input[name='file_autre']").set_input_files(str(fake))
    page.get_by_role("button", name="Joindre les fichiers choisis").click()
    assert "refusé" in page.locator("#file_autre-messages").inner_text()

    page.get_by_role("link", name="Retour au dossier").click()
    assert "8 sections complètes sur 8" in page.locator("main").inner_text()
    page.get_by_role("link", name="Vérifier et déposer").click()
    page.get_by_role("button", name="Déposer définitivement le dossier").click()
    dialog = page.get_by_role("dialog", name="Déposer définitivement le dossier ?")
    dialog.get_by_role("button", name="Déposer le dossier").click()
    page.wait_for_load_state("domcontentloaded")
    message = page.locator(".fr-alert--success").inner_text()
    reference = re.search(r"AAP-QPV-DEMO-\d{4}", message).group(0)
    assert "Déposé" in page.locator("main").inner_text()
    digest = page.locator("code.hash").first.inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Accusé de réception (PDF) de la version 1").click()
    receipt = tmp_path / "receipt.pdf"
    download_info.value.save_as(receipt)
    text = subprocess.run(["pdftotext", "-layout", str(receipt), "-"], capture_output=True, text=True, check=True).stdout
    assert reference in text
    assert digest in re.sub(r"\s+", "", text)
