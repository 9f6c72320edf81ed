"""What an officer sees (issue 15, items 16 to 21): a failed form opens its tab with the error
summary in focus; irreversible decisions ask for confirmation in a DSFR dialog; the home says
what to do and the queue that complements arrived; axe finds nothing serious on these pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from grants.demo import DEMO_ACCOUNTS

from .conftest import login
from .test_login import serious_violations
from .test_officer_journey import expect_success, open_tab

OFFICER = next(a for a in DEMO_ACCOUNTS if a["email"] == "instructeur@dreets-hdf.demo")


def opened(page, dialog) -> None:  # type: ignore[no-untyped-def]
    """The DSFR dialog shown, its fade-in over (axe reads colours half-faded otherwise)."""
    expect(dialog).to_be_visible()
    page.wait_for_function("dialog => getComputedStyle(dialog).opacity === '1'", arg=dialog.element_handle())


def open_dossier(page, live_server, dossier) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/instruction/dossiers/{dossier['id']}")
    page.wait_for_load_state("load")


def test_a_failed_form_opens_its_tab_with_the_error_summary(page, live_server, seed):
    dossier = seed("submitted")
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    open_dossier(page, live_server, dossier)
    expect(page.locator("#panel-contenu")).to_be_visible()

    # An empty complements request: back on the Recevabilité tab, the summary focused.
    open_tab(page, "Recevabilité", "#panel-recevabilite")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_load_state("load")
    expect(page.locator("#panel-recevabilite")).to_be_visible()
    expect(page.locator("#panel-contenu")).to_be_hidden()
    expect(page.get_by_role("tab", name="Recevabilité")).to_have_attribute("aria-selected", "true")
    summary = page.locator("#panel-recevabilite [data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Message au porteur : Ce champ est obligatoire.")
    assert serious_violations(page) == []

    # A checklist that overrides the system without a comment: the criterion named by its label.
    page.locator("label[for='value_expenses-1']").click()  # « Non satisfait »
    page.get_by_role("button", name="Enregistrer la grille").click()
    page.wait_for_load_state("load")
    summary = page.locator("#panel-recevabilite [data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Critère « Frais de personnel uniquement, pas d'investissement » : "
                                    "un commentaire est obligatoire")
    assert "« expenses »" not in summary.inner_text()
    summary.get_by_role("link").first.click()
    expect(page.locator("#comment_expenses")).to_be_in_viewport()
    expect(page.locator("#comment_expenses")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#value_expenses-1")).to_be_checked()  # what was chosen is kept


def test_decisions_ask_for_confirmation_first(page, live_server, seed):
    admissible, inadmissible = seed("submitted"), seed("submitted")
    login(page, live_server, OFFICER["email"], OFFICER["password"])

    # Recevable: the dialog says what will happen; « Annuler » leaves everything as it was.
    open_dossier(page, live_server, admissible)
    open_tab(page, "Recevabilité", "#panel-recevabilite")
    for code in ("signatory", "tax_social", "not_completed"):
        page.locator(f"label[for='value_{code}-0']").click()
    page.get_by_role("button", name="Déclarer recevable").click()
    dialog = page.get_by_role("dialog", name="Déclarer le dossier recevable ?")
    opened(page, dialog)
    expect(dialog).to_contain_text("la structure en sera informée par courriel")
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("main .fr-badge").first).to_have_text("Déposé")
    page.get_by_role("button", name="Déclarer recevable").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Déclarer recevable").click()
    page.wait_for_load_state("load")
    expect_success(page, "Dossier déclaré recevable")

    # Clore l'instruction: the requested values beside the fields, then the dialog.
    page.get_by_role("link", name="Instruire").click()
    page.wait_for_load_state("load")
    expect(page.locator("label[for='reperage-nb_jeunes_qpv']")).to_contain_text("Demandé : 120.")
    expect(page.locator("label[for='reperage-posts-0-annual_cost']")).to_contain_text("Demandé : 42\u202f000,00\u00a0€.")
    assert serious_violations(page) == []
    page.locator("label[for='opinion-0']").click()
    page.get_by_label("Motivation de l'avis").fill("Projet cohérent avec le diagnostic territorial.")
    page.get_by_role("button", name="Clore l'instruction").click()
    dialog = page.get_by_role("dialog", name="Clore l'instruction ?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Clore l'instruction").click()
    page.wait_for_load_state("load")
    expect_success(page, "Instruction close")
    expect(page.locator("main .fr-badge").first).to_have_text("Instruit")

    # Irrecevable: its own dialog, about the letter.
    open_dossier(page, live_server, inadmissible)
    open_tab(page, "Recevabilité", "#panel-recevabilite")
    for code in ("signatory", "not_completed"):
        page.locator(f"label[for='value_{code}-0']").click()
    page.locator("label[for='value_tax_social-1']").click()
    page.locator("#comment_tax_social").fill("Attestation URSSAF périmée.")
    page.get_by_label(re.compile("^Motif")).fill("L'attestation de régularité sociale n'est pas à jour.")
    page.get_by_role("button", name="Déclarer irrecevable").click()
    dialog = page.get_by_role("dialog", name="Déclarer le dossier irrecevable ?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("la lettre de notification sera établie")
    dialog.get_by_role("button", name="Déclarer irrecevable").click()
    page.wait_for_load_state("load")
    expect_success(page, "Dossier déclaré irrecevable")


def test_the_home_says_what_to_do_and_the_queue_that_complements_arrived(page, live_server, seed):
    dossier = seed("complements_received")
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    counter = page.locator(".work-counter a", has_text="Compléments reçus à examiner")
    expect(counter).to_be_visible()
    assert int(counter.locator(".work-counter__value").inner_text()) >= 1
    assert int(page.locator(".work-counter a", has_text="Messages non lus")
               .locator(".work-counter__value").inner_text()) >= 1
    assert serious_violations(page) == []
    counter.click()
    section = page.locator("section", has=page.locator("#complements-recus"))
    expect(section).to_be_in_viewport()
    expect(section).to_contain_text(dossier["reference"])
    expect(section).to_contain_text(dossier["title"])
    section.get_by_role("link", name=dossier["reference"]).click()
    page.wait_for_load_state("load")
    expect(page.locator(".fr-alert.complements-received")).to_contain_text("version n° 2 à examiner")

    page.get_by_role("link", name=re.compile("Dossiers AAP-QPV-DEMO")).click()
    page.wait_for_load_state("load")
    row = page.locator("tbody tr", has_text=dossier["reference"])
    expect(row.locator(".complements-received")).to_have_text("Compléments reçus")
    expect(row).to_contain_text(dossier["title"])
    assert serious_violations(page) == []
