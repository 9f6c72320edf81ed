"""What an applicant sees on the pages issue 15 changed (items 7 to 14), in Chromium: the
error summary, post rows added and removed, the QPV counter, the commune picker, several
pièces at once and an oversized one refused, Messages with their line breaks, the
submission page with its confirmation and the récapitulatif. Each page is scanned by axe."""

from __future__ import annotations

import re
import subprocess

from playwright.sync_api import expect

from grants.demo import DEMO_ACCOUNTS
from tests.conftest import SAMPLE_PDF

from .conftest import login
from .test_login import serious_violations

AMIENS = next(a for a in DEMO_ACCOUNTS if a["email"] == "porteur@ml-amienois.demo")
VALENCIENNES = next(a for a in DEMO_ACCOUNTS if a["email"] == "porteur@ml-valenciennois.demo")
DRAFT_TITLE = "Seconde action (brouillon de démonstration)"


def new_dossier(page, live_server) -> str:  # type: ignore[no-untyped-def]
    """A new draft of the Amiens Mission locale; its URL."""
    login(page, live_server, AMIENS["email"], AMIENS["password"])
    page.get_by_role("link", name=re.compile("Voir l'appel et déposer un dossier")).first.click()
    page.get_by_role("button", name="Commencer un dossier").click()
    page.wait_for_load_state("domcontentloaded")
    assert re.search(r"/porteur/dossiers/\d+$", page.url.split("#")[0]), page.url
    return page.url.split("#")[0]


def no_js_page(browser, live_server, email: str, password: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, live_server, email, password)
    return context, page


# Item 10: the error summary ---------------------------------------------------------------------


def test_error_summary_counts_links_and_takes_the_focus(page, live_server):
    dossier = new_dossier(page, live_server)
    page.goto(f"{dossier}/sections/resources")
    page.locator("input[name='reperage-posts-0-label']").fill("Chargé de mission")
    page.locator("input[name='reperage-posts-0-annual_cost']").fill("quarante mille")
    page.locator("input[name='reperage-posts-0-fte']").fill("2")
    page.locator("input[name='reperage-posts-0-months']").fill("60")
    page.get_by_role("button", name="Enregistrer la section").click()
    page.wait_for_load_state("load")

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    assert summary.get_by_role("heading").inner_text() == "Le formulaire contient 3 erreurs"
    links = summary.get_by_role("link")
    assert links.count() == 3
    targets = [links.nth(i).get_attribute("href") for i in range(3)]
    assert targets == ["#reperage-posts-0-annual_cost", "#reperage-posts-0-fte", "#reperage-posts-0-months"]
    for target in targets:
        assert page.locator(target).count() == 1
    links.nth(1).click()
    expect(page.locator("#reperage-posts-0-fte")).to_be_focused()
    # Everything typed is still there.
    expect(page.locator("input[name='reperage-posts-0-label']")).to_have_value("Chargé de mission")
    expect(page.locator("input[name='reperage-posts-0-annual_cost']")).to_have_value("quarante mille")
    assert serious_violations(page) == []


# Item 9: a section saves incomplete ------------------------------------------------------------


def test_a_title_alone_is_saved_and_the_section_list_says_what_is_left(page, live_server):
    dossier = new_dossier(page, live_server)
    page.goto(f"{dossier}/sections/project")
    page.get_by_label("Intitulé du projet").fill("Repérer les jeunes d'Étouvie")
    page.get_by_role("button", name="Enregistrer la section").click()
    page.wait_for_load_state("load")
    expect(page.locator(".fr-alert--success")).to_contain_text("Section « Projet et période » enregistrée.")
    item = page.locator("#section-project")
    expect(item).to_contain_text("À renseigner : « Résumé du projet », « Début de l'opération », « Fin de l'opération ».")
    expect(page.get_by_role("heading", level=1)).to_have_text("Repérer les jeunes d'Étouvie")
    assert serious_violations(page) == []
    # Identification starts from the profile's contact (item 13).
    page.goto(f"{dossier}/sections/identification")
    expect(page.get_by_label("Son courriel")).not_to_have_value("")
    assert serious_violations(page) == []
    for key in ("project", "public", "indicators", "declaration"):  # every section page, axe-scanned
        page.goto(f"{dossier}/sections/{key}")
        assert serious_violations(page) == [], key
    page.goto(f"{dossier}/deposer")  # the submission page of an incomplete dossier
    expect(page.locator("#a-completer")).to_contain_text("Projet et période")
    assert serious_violations(page) == []


# Item 11: post rows ------------------------------------------------------------------------------


def test_post_rows_are_added_and_removed_in_the_page(page, live_server):
    dossier = new_dossier(page, live_server)
    page.goto(f"{dossier}/sections/resources")
    url = page.url
    rows = page.locator("[data-rows='reperage-posts'] [data-rows-list] [data-row]")
    assert rows.count() == 1
    page.locator("input[name='reperage-posts-0-label']").fill("Chargé de mission repérage")
    page.get_by_role("button", name="Ajouter un poste (volet repérage)").click()
    assert rows.count() == 2 and page.url == url  # in the page, nothing sent
    expect(page.locator("#reperage-posts-1-label")).to_be_focused()
    expect(rows.nth(1)).to_contain_text("Poste 2")
    page.locator("#reperage-posts-1-label").fill("Animatrice aller vers")
    page.locator("#reperage-posts-1-annual_cost").fill("30 000")
    page.locator("#reperage-posts-1-fte").fill("0,5")
    page.locator("#reperage-posts-1-months").fill("12")
    rows.nth(0).get_by_role("button", name="Retirer le poste 1 (volet repérage)").click()
    assert rows.count() == 1
    expect(rows.nth(0)).to_contain_text("Poste 1")
    expect(rows.nth(0).get_by_role("button")).to_have_accessible_name("Retirer le poste 1 (volet repérage)")
    assert serious_violations(page) == []
    # Enter in a field saves the section (the default button), it adds or removes nothing.
    page.locator("#reperage-posts-1-months").press("Enter")
    page.wait_for_load_state("load")
    expect(page.locator(".fr-alert--success")).to_contain_text("Section « Moyens par volet » enregistrée.")
    expect(page.locator("input[name$='-label'][value='Animatrice aller vers']")).to_have_count(1)
    assert "Chargé de mission repérage" not in page.locator("main form").inner_text()
    page.reload()
    expect(page.locator("#reperage-posts-0-label")).to_have_value("Animatrice aller vers")


def test_post_rows_without_javascript(browser, live_server):
    context, page = no_js_page(browser, live_server, AMIENS["email"], AMIENS["password"])
    try:
        page.get_by_role("link", name=re.compile("Voir l'appel et déposer un dossier")).first.click()
        page.get_by_role("button", name="Commencer un dossier").click()
        page.wait_for_load_state("domcontentloaded")
        page.goto(page.url.split("#")[0] + "/sections/resources")
        page.locator("input[name='reperage-posts-0-label']").fill("Chargé de mission repérage")
        page.get_by_role("button", name="Ajouter un poste (volet repérage)").click()
        page.wait_for_load_state("domcontentloaded")
        expect(page.locator("#reperage-posts-0-label")).to_have_value("Chargé de mission repérage")
        expect(page.locator("#reperage-posts-1-label")).to_be_visible()
        expect(page.locator("#reperage-posts-1-label")).to_be_focused()
        page.locator("#reperage-posts-1-label").fill("Animatrice")
        page.get_by_role("button", name="Retirer le poste 1 (volet repérage)").click()
        page.wait_for_load_state("domcontentloaded")
        expect(page.locator("input[name$='-label'][value='Chargé de mission repérage']")).to_have_count(0)
        expect(page.locator("#reperage-posts-1-label")).to_have_value("Animatrice")
    finally:
        context.close()


# Item 13: the QPV counter -------------------------------------------------------------------------


def test_the_qpv_counter_counts_live(page, live_server):
    dossier = new_dossier(page, live_server)
    page.goto(f"{dossier}/sections/territories")
    counter = page.locator("#qpv-count")
    expect(counter).to_have_text("0 QPV choisi")
    page.get_by_label("Filtrer les QPV").fill("amiens")
    options = page.locator("#qpv-options .qpv-option:not([hidden]) label")
    first, second = options.nth(0).inner_text(), options.nth(1).inner_text()
    options.nth(0).click()
    expect(counter).to_have_text(f"1 QPV choisi : {first}")
    options.nth(1).click()
    expect(counter).to_have_text(f"2 QPV choisis : {first} ; {second}")
    options.nth(0).click()
    expect(counter).to_have_text(f"1 QPV choisi : {second}")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Enregistrer la section").click()
    page.wait_for_load_state("load")
    page.goto(f"{dossier}/sections/territories")
    expect(counter).to_have_text(f"1 QPV choisi : {second}")  # the server's count, on load


# Item 7: the commune picker -----------------------------------------------------------------------


def test_the_commune_picker_saves_the_commune_picked(page, live_server):
    login(page, live_server, AMIENS["email"], AMIENS["password"])
    page.goto(f"{live_server.url}/porteur/structure")
    field = page.get_by_label("Commune")
    original = field.input_value()
    # Typing a postal code offers every commune it may designate, each with CP and INSEE code.
    field.fill("62300")
    offered = page.locator("#communes-hdf option[value*='62300']").evaluate_all("els => els.map(e => e.value)")
    assert sorted(offered) == sorted([
        "Éleu-dit-Leauwette (62) — CP 62300 — INSEE 62291", "Lens (62) — CP 62300 — INSEE 62498",
        "Équihen-Plage (62) — CP 62224 — INSEE 62300",
    ])
    # Saved as the bare code, it is never guessed: the three are listed to pick from.
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.wait_for_load_state("load")
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.locator("#commune_insee-messages")).to_contain_text("« 62300 » désigne plusieurs communes")
    expect(page.locator("#commune_insee-messages")).to_contain_text("Lens (62) — CP 62300 — INSEE 62498")
    assert serious_violations(page) == []
    # Picked in the list, it is exactly that commune.
    page.get_by_label("Commune").fill("Lens (62) — CP 62300 — INSEE 62498")
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.wait_for_load_state("load")
    expect(page.locator(".fr-alert--success")).to_contain_text("Le profil de la structure est enregistré.")
    page.goto(f"{live_server.url}/porteur/structure")
    expect(page.get_by_label("Commune")).to_have_value("Lens (62) — CP 62300 — INSEE 62498")
    page.get_by_label("Commune").fill(original)  # as it was, for the other tests
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.wait_for_load_state("load")
    expect(page.locator(".fr-alert--success")).to_be_visible()


# Item 12: pièces ------------------------------------------------------------------------------------


def test_several_pieces_at_once_and_an_oversized_one_refused_in_the_browser(page, live_server):
    dossier = new_dossier(page, live_server)
    page.goto(f"{dossier}/pieces")
    for code in ("statuts", "rib", "mandat"):
        expect(page.locator(f"label[for='file_{code}']")).to_contain_text("10 Mo au plus")
        page.locator(f"#file_{code}").set_input_files(
            {"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": SAMPLE_PDF + code.encode()})
    page.locator("#file_autre").set_input_files([
        {"name": "annexe-1.pdf", "mimeType": "application/pdf", "buffer": SAMPLE_PDF + b"1"},
        {"name": "annexe-2.pdf", "mimeType": "application/pdf", "buffer": SAMPLE_PDF + b"2"},
    ])
    page.get_by_role("button", name="Joindre les fichiers choisis").click()
    page.wait_for_load_state("load")
    expect(page.locator(".fr-alert--success")).to_contain_text("5 pièces jointes au dossier")
    table = page.locator("table").inner_text()
    for name in ("statuts.pdf", "rib.pdf", "mandat.pdf", "annexe-1.pdf", "annexe-2.pdf"):
        assert name in table

    # 11 Mo: refused before any sending, the reason next to the input, the file taken out.
    big = {"name": "gros.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)}
    page.locator("#file_regularite_fiscale").set_input_files(big)
    message = page.locator("#file_regularite_fiscale-size-messages")
    expect(message).to_be_visible()
    expect(message).to_contain_text("« gros.pdf » (11,0 Mo) dépasse la taille maximale de 10 Mo")
    assert page.locator("#file_regularite_fiscale").evaluate("input => input.files.length") == 0
    expect(page.locator("#file_regularite_fiscale")).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []


def test_an_oversized_piece_without_javascript_is_refused_on_the_same_page(browser, live_server):
    context, page = no_js_page(browser, live_server, AMIENS["email"], AMIENS["password"])
    try:
        page.get_by_role("link", name=re.compile("Voir l'appel et déposer un dossier")).first.click()
        page.get_by_role("button", name="Commencer un dossier").click()
        page.wait_for_load_state("domcontentloaded")
        page.goto(page.url.split("#")[0] + "/pieces")
        page.locator("#file_statuts").set_input_files(
            {"name": "gros.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)})
        page.locator("#file_rib").set_input_files({"name": "rib.pdf", "mimeType": "application/pdf", "buffer": SAMPLE_PDF})
        page.get_by_role("button", name="Joindre les fichiers choisis").click()
        page.wait_for_load_state("domcontentloaded")
        expect(page.get_by_role("heading", level=1)).to_have_text("Pièces jointes")
        expect(page.locator("#file_statuts-messages")).to_have_text(
            "« gros.pdf » refusé : Le fichier dépasse la taille maximale autorisée (10 Mo).")
        expect(page.locator(".fr-alert--success")).to_contain_text("1 pièce jointe au dossier : « rib.pdf »")
    finally:
        context.close()


# Items 8 and 13: Messages, reached from the pages, with their line breaks ----------------------------


def test_messages_are_reached_from_home_and_keep_their_line_breaks(page, live_server):
    login(page, live_server, AMIENS["email"], AMIENS["password"])
    link = page.get_by_role("link", name=re.compile(r"^Messages \(\d+ non lus?\) du dossier AAP-QPV-DEMO-"))
    expect(link.first).to_be_visible()
    assert serious_violations(page) == []
    link.first.click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Messages du dossier")
    page.get_by_label("Votre message").fill("Bonjour,\nvoici nos précisions :\n- maraudes le mardi\n- permanences le jeudi")
    page.get_by_role("button", name="Envoyer le message").click()
    page.wait_for_load_state("load")
    body = page.locator("article p.pre").last
    assert body.inner_text() == "Bonjour,\nvoici nos précisions :\n- maraudes le mardi\n- permanences le jeudi"
    assert body.evaluate("p => getComputedStyle(p).whiteSpace") in ("pre-wrap", "pre-line")
    assert serious_violations(page) == []
    # The dossier page links them too.
    page.get_by_role("link", name="Retour au dossier").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("link", name=re.compile(r"^Messages \(\d+ non lus?\)"))).to_be_visible()
    assert serious_violations(page) == []


# Item 14: the submission page, its confirmation, the récapitulatif ----------------------------------


def test_submission_page_shows_the_dossier_confirms_and_gives_the_summary(page, live_server, tmp_path):
    login(page, live_server, VALENCIENNES["email"], VALENCIENNES["password"])
    page.get_by_role("link", name=DRAFT_TITLE).click()
    page.wait_for_load_state("load")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Vérifier et déposer").click()
    page.wait_for_load_state("load")
    main = page.locator("main")
    for heading in ("1. Identification", "2. Projet et période", "3. Territoires", "4. Public et objectifs",
                    "5. Moyens par volet", "6. Indicateurs", "7. Pièces jointes", "8. Attestation sur l'honneur"):
        expect(main.get_by_role("heading", name=re.compile("^" + re.escape(heading)))).to_be_visible()
    expect(main).to_contain_text("Chargé de mission repérage")
    expect(main.locator("#plan-de-financement table")).to_be_visible()
    assert serious_violations(page) == []

    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Télécharger le récapitulatif du dossier")).click()
    draft_pdf = tmp_path / "brouillon.pdf"
    info.value.save_as(draft_pdf)
    text = subprocess.run(["pdftotext", str(draft_pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Brouillon non déposé" in text and DRAFT_TITLE in text

    # The deposit asks first; « Annuler » leaves everything as it was.
    submit = page.get_by_role("button", name="Déposer définitivement le dossier")
    submit.click()
    dialog = page.get_by_role("dialog", name="Déposer définitivement le dossier ?")
    expect(dialog).to_be_visible()
    # Axe reads colours: let the modal's fade-in end first.
    expect(page.locator("#confirm-submit")).to_have_css("opacity", "1")
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    assert "/deposer" in page.url
    submit.click()
    dialog.get_by_role("button", name="Déposer le dossier").click()
    page.wait_for_load_state("load")
    expect(page.locator(".fr-alert--success")).to_contain_text("Votre dossier est déposé sous la référence")
    reference = re.search(r"AAP-QPV-DEMO-\d{4}", page.locator(".fr-alert--success").inner_text()).group(0)

    with page.expect_download() as info:
        page.get_by_role("link", name="Récapitulatif (PDF) de la version 1").click()
    frozen_pdf = tmp_path / "v1.pdf"
    info.value.save_as(frozen_pdf)
    text = subprocess.run(["pdftotext", str(frozen_pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert f"Récapitulatif du dossier {reference}" in text and "Version n° 1 déposée le" in text
    digest = page.locator("code.hash").first.inner_text()
    assert digest in re.sub(r"\s+", "", text)
