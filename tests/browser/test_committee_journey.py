"""The committee on the demo data: a member reads the agenda and downloads the pack, an
officer completes the attendance, records the decision and closes the session, the
applicant downloads the letter."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from grants.demo import DEMO_ACCOUNTS
from tests.pdftools import pdf_words

from .conftest import login
from .test_login import serious_violations
from .test_officer_journey import expect_success, logout

MEMBER = next(a for a in DEMO_ACCOUNTS if a["email"] == "comite@prefecture-hdf.demo")
OFFICER = next(a for a in DEMO_ACCOUNTS if a["email"] == "instructeur@dreets-hdf.demo")
APPLICANT = next(a for a in DEMO_ACCOUNTS if a["email"] == "porteur@ml-valenciennois.demo")
MEMBER_NAME = MEMBER["name"]
DEFERRED = "AAP-QPV-2023-0003"  # adjourned in June, waiting in the September session


def download(page, link_name: str, tmp_path) -> bytes:  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def test_member_reads_officer_decides_applicant_downloads_the_letter(page, live_server, tmp_path):
    # The committee member sees their two sessions, and nothing of the officers' pages.
    login(page, live_server, MEMBER["email"], MEMBER["password"])
    sessions = page.get_by_role("link", name=re.compile(r"^Séance n° \d du .* — AAP-QPV-2023$"))
    expect(sessions).to_have_count(2)
    assert page.get_by_role("link", name=re.compile("dossiers? de l'appel")).count() == 0
    page.get_by_role("link", name=re.compile(r"^Séance n° 2 du 21.09.2023")).click()
    page.wait_for_load_state("domcontentloaded")
    session_url = page.url
    agenda = page.locator("#ordre-du-jour + ol").inner_text()
    assert DEFERRED in agenda
    assert page.get_by_role("button", name=re.compile("Enregistrer la décision")).count() == 0
    assert serious_violations(page) == []
    pack = download(page, "Dossier du comité (PDF) : ordre du jour et fiches de synthèse", tmp_path)
    words = pdf_words(pack)
    assert "Dossier du comité" in words and f"Fiche de synthèse — {DEFERRED}" in words
    assert "page 1 / " in words  # every page numbered in the pack
    page.goto(f"{live_server.url}/instruction/appels/1/dossiers")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page non trouvée")
    logout(page)

    # The officer completes the attendance, records the committee's decision and closes the
    # session.
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    page.goto(session_url)
    expect(page.get_by_label(MEMBER_NAME)).to_be_checked()  # present, as recorded when held
    page.get_by_label(re.compile("Autres participants")).fill("Mme Nadia Lefèvre, DDETS du Nord")
    page.get_by_role("button", name="Enregistrer les présences").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, "Présences enregistrées.")
    assert serious_violations(page) == []
    item = page.locator(".agenda-item", has_text=DEFERRED)
    item.get_by_text("Programmé", exact=True).click()
    item.get_by_role("button", name=re.compile("Enregistrer la décision")).click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, f"Décision enregistrée pour le dossier {DEFERRED}")
    # Closing is irreversible: a dialog says what it does before anything is sent.
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Clore la séance").click()
    dialog = page.get_by_role("dialog", name="Clore la séance n° 2 ?")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_css("opacity", "1")  # done fading in: axe reads its final colours
    expect(dialog).to_contain_text("1 lettre de notification est émise et envoyée par courriel aux porteurs")
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    assert page.locator("main .fr-badge").first.inner_text().lower() == "tenue"  # nothing happened
    page.get_by_role("button", name="Clore la séance").click()
    dialog.get_by_role("button", name="Clore la séance et envoyer les lettres").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, "Séance close")
    minutes = pdf_words(download(page, "Procès-verbal (PDF)", tmp_path))
    assert "Procès-verbal du comité de sélection" in minutes and DEFERRED in minutes
    assert f"Présents {MEMBER_NAME} Excusés aucun Autres participants Mme Nadia Lefèvre, DDETS du Nord" in minutes
    logout(page)

    # The applicant sees the decision on the dossier and downloads the letter.
    login(page, live_server, APPLICANT["email"], APPLICANT["password"])
    page.get_by_role("link", name=re.compile("Permanences mobiles dans les quartiers de Denain")).first.click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("#decision")).to_contain_text("Opération retenue par le comité de sélection")
    assert serious_violations(page) == []
    letter = pdf_words(download(page, "Télécharger la lettre de notification (PDF)", tmp_path))
    assert "notification de sélection" in letter and DEFERRED in letter
