"""What people see of issue 14 (security), in Chromium against the app served by gunicorn:
registering through the e-mailed link, a reset link that leaves the address bar, an officer
verifying a structure behind a confirmation dialog, and a date out of bounds explained in the
error summary. E-mails are read from the development outbox of the live server."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from grants.demo import DEMO_ACCOUNTS

from .conftest import login
from .test_login import serious_violations

OFFICER = next(a for a in DEMO_ACCOUNTS if a["email"] == "instructeur@dreets-hdf.demo")
APPLICANT = next(a for a in DEMO_ACCOUNTS if a["email"] == "porteur@ml-valenciennois.demo")
NEWCOMER = {"email": "nadia.nouvelle@ml-navigateur.example", "password": "un-mot-de-passe-long-et-sur"}
NEW_SIRET = "80005005600012"  # Luhn-valid, no demo structure has it


def mail_to(live_server, address: str, subject: str) -> str:  # type: ignore[no-untyped-def]
    """The body of the newest e-mail to ``address`` whose subject contains ``subject``."""
    outbox = Path(live_server.env["GRANTS_INSTANCE_DIR"]) / "outbox"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml"), reverse=True):
            message = message_from_bytes(path.read_bytes(), policy=default)
            if message["To"] == address and subject in message["Subject"]:
                return message.get_body(("plain",)).get_content()
        time.sleep(0.2)
    raise AssertionError(f"no e-mail « {subject} » to {address}")


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_a_person_registers_through_the_link_sent_to_their_address(page, live_server):
    page.goto(f"{live_server.url}/compte/inscription")
    page.get_by_label("Nom de la structure porteuse").fill("Mission locale du navigateur")
    page.get_by_label("SIRET de la structure").fill(NEW_SIRET)
    page.get_by_label("Vos prénom et nom").fill("Nadia Nouvelle")
    page.get_by_label("Adresse électronique professionnelle").fill(NEWCOMER["email"])
    page.locator("input[name=password]").fill(NEWCOMER["password"])
    page.locator("input[name=confirm]").fill(NEWCOMER["password"])
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith("/compte/inscription/envoyee")
    assert page.get_by_role("heading", level=1).inner_text() == "Vérifiez votre messagerie"
    assert f"Un courriel vient d'être envoyé à {NEWCOMER['email']}" in page.locator("main").inner_text()
    assert serious_violations(page) == []

    body = mail_to(live_server, NEWCOMER["email"], "Confirmez votre adresse")
    link = re.search(r"https?://\S+/compte/inscription/confirmer/(\S+)", body)
    assert link and link.group(0).startswith(live_server.url)
    page.goto(link.group(0))
    assert page.url == f"{live_server.url}/compte/inscription/confirmer"  # the token left the address bar
    summary = page.locator("#inscription-a-confirmer").inner_text()
    assert "Nadia Nouvelle" in summary and NEW_SIRET in summary
    page.get_by_role("button", name="Activer mon compte").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Votre compte est créé et rattaché à la structure « Mission locale du navigateur »" in page.inner_text("body")
    page.goto(f"{live_server.url}/porteur/structure")
    assert "Structure en attente de vérification par la DREETS" in page.locator("#verification-structure").inner_text()


def test_an_officer_verifies_a_structure_after_confirming(page, live_server):
    if "Mission locale du navigateur" not in _structures_to_verify(page, live_server):
        test_a_person_registers_through_the_link_sent_to_their_address(page, live_server)
        page.context.clear_cookies()
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    page.get_by_role("link", name="Structures").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_role("heading", level=1).inner_text() == "Structures porteuses"
    assert serious_violations(page) == []
    page.get_by_role("link", name="Mission locale du navigateur").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("#statut-structure").inner_text().lower() == "structure à vérifier"
    page.get_by_label("Ce que vous avez vérifié (facultatif)").fill("SIRET actif ; appel à la direction.")
    page.get_by_role("button", name="Marquer la structure comme vérifiée").click()
    dialog = page.get_by_role("dialog", name="Marquer la structure comme vérifiée ?")
    dialog.wait_for(state="visible")
    assert "Le critère de recevabilité « Structure porteuse vérifiée » sera satisfait" in dialog.inner_text()
    dialog.get_by_role("button", name="Marquer comme vérifiée").click()
    page.wait_for_load_state("domcontentloaded")
    page.locator(".fr-alert--success").wait_for()
    status = page.locator("#statut-structure").inner_text()
    assert status.lower().startswith("structure vérifiée le") and "olivier" in status.lower()
    history = page.locator("#historique + ol").inner_text()
    assert "structure vérifiée (SIRET actif ; appel à la direction.)" in history


def _structures_to_verify(page, live_server) -> str:  # type: ignore[no-untyped-def]
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    page.goto(f"{live_server.url}/instruction/structures")
    text = page.locator("main").inner_text()
    page.context.clear_cookies()
    return text


def test_a_reset_link_leaves_the_address_bar(page, live_server):
    page.goto(f"{live_server.url}/compte/mot-de-passe-oublie")
    page.get_by_label("Adresse électronique").fill(APPLICANT["email"])
    page.get_by_role("button", name="Recevoir le lien").click()
    page.wait_for_load_state("domcontentloaded")
    body = mail_to(live_server, APPLICANT["email"], "Réinitialisation")
    link = re.search(r"https?://\S+/compte/reinitialiser/\S+", body).group(0)
    token = link.rsplit("/", 1)[1]
    page.goto(link)
    assert page.url == f"{live_server.url}/compte/reinitialiser"
    assert token not in page.content()
    assert page.get_by_role("heading", level=1).inner_text() == "Choisir un nouveau mot de passe"
    # The password stays the demo's: the form is left unsent.


def test_a_project_date_out_of_bounds_is_explained_next_to_the_field(page, live_server):
    login(page, live_server, APPLICANT["email"], APPLICANT["password"])
    # A draft of its own: the demo's draft is submitted by another browser test of the run.
    page.get_by_role("link", name="Voir l'appel et déposer un dossier").first.click()
    page.get_by_role("button", name="Commencer un dossier").click()
    page.wait_for_load_state("domcontentloaded")
    page.get_by_role("link", name=re.compile(r"^(Remplir|Modifier) la section Projet et période$")).click()
    page.wait_for_load_state("domcontentloaded")
    page.get_by_label("Début de l'opération").fill("9998-01-01")
    page.get_by_label("Fin de l'opération").fill("9999-12-31")
    page.get_by_role("button", name="Enregistrer la section").click()
    page.wait_for_load_state("domcontentloaded")
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")  # the summary has the focus
    assert "commencer au plus tard le" in summary.inner_text()
    assert "mois après la clôture de l'appel" in page.locator("#start_date-messages").inner_text()
    assert page.get_by_label("Début de l'opération").input_value() == "9998-01-01"  # what was typed is kept
    summary.get_by_role("link", name=re.compile("Début de l'opération")).click()
    assert page.evaluate("document.activeElement.id") == "start_date"
    assert serious_violations(page) == []
