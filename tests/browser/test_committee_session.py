"""Issue 15's committee journeys in Chromium: an officer creates a session without members
(told so), edits it and deletes it after a confirmation; convenes a session, holds it, sees the
envelope follow the amounts while typing, meets an error summary on a wrong amount, records,
corrects and closes after a confirmation; the applicant then reads the retained plan and the
grant per strand. Every page scanned with axe."""

from __future__ import annotations

import re
import subprocess
import sys

from playwright.sync_api import expect

from grants.demo import DEMO_ACCOUNTS

from .conftest import ROOT, login
from .test_login import serious_violations
from .test_officer_journey import expect_success, logout

OFFICER = next(a for a in DEMO_ACCOUNTS if a["email"] == "instructeur@dreets-hdf.demo")
APPLICANT = next(a for a in DEMO_ACCOUNTS if a["email"] == "porteur@ml-amienois.demo")
MEMBER = next(a for a in DEMO_ACCOUNTS if a["email"] == "comite@prefecture-hdf.demo")
NBSP, NNBSP = "\u00a0", "\u202f"

# An instructed dossier of the open demo call, on the agenda of a planned session met
# yesterday, built through the application's own operations on the live server's database.
SEED = '''
from datetime import timedelta
from sqlalchemy import select
from wsgi import app
from grants.demo import DEMO_PDF, _demo_content
from grants.extensions import db
from grants.models import AdmissibilityOutcome, Call, Opinion, User, utcnow
from grants.operations import committee, review
from grants.operations.dossiers import add_attachment, create_dossier, save_section, submit_dossier
from grants.storage import current_store

with app.test_request_context():
    store = current_store()
    call = db.session.scalar(select(Call).where(Call.code == "AAP-QPV-DEMO"))
    user = db.session.scalar(select(User).where(User.email == "porteur@ml-amienois.demo"))
    officer = db.session.scalar(select(User).where(User.email == "instructeur@dreets-hdf.demo"))
    member = db.session.scalar(select(User).where(User.email == "comite@prefecture-hdf.demo"))
    dossier = create_dossier(call, user.structure, user)
    content = _demo_content("Repérage renforcé à Amiens Nord", ["QN08001M"], (60, 40), ("38000.00", "36000.00"))
    for key, value in content.items():
        save_section(dossier, key, value, user, dossier.version)
    for item in call.required_attachments:
        add_attachment(dossier, item["code"], item["label"] + ".pdf", DEMO_PDF, user, store=store,
                       max_bytes=10 * 1024 * 1024)
    submit_dossier(dossier, user, store=store, expected_version=dossier.version)
    checklist = review.get_review(dossier)
    review.save_checklist(checklist, {c["code"]: {"value": "pass", "comment": ""} for c in call.admissibility_criteria},
                          officer, None)
    review.record_admissibility(checklist, AdmissibilityOutcome.admissible, "", officer)
    instruction = review.get_instruction(dossier)
    review.record_instruction(instruction, instruction.retained, Opinion.reserved, "Avis réservé : coûts à préciser.",
                              officer, None, final=True)
    session = committee.create_session(
        call, meets_at=utcnow() - timedelta(days=1), place="Préfecture de la Somme, Amiens",
        chair_name="Mme la Secrétaire générale", chair_quality="par délégation du Préfet de région",
        members=[member], actor=officer)
    committee.add_to_agenda(session, dossier, officer, store=store)
    db.session.commit()
    print(session.id, session.number, call.id, dossier.id, dossier.reference)
'''


def seed(live_server) -> tuple[int, int, int, int, str]:  # type: ignore[no-untyped-def]
    out = subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=live_server.env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    return int(out[0]), int(out[1]), int(out[2]), int(out[3]), out[4]


def opened(page, dialog_id: str):  # type: ignore[no-untyped-def]
    """The DSFR dialog ``dialog_id``, once shown and done fading in (axe reads its final colours)."""
    dialog = page.locator(f"#{dialog_id}")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_css("opacity", "1")
    return dialog


def euros(cents: int) -> str:
    """As the page prints an amount (Babel's fr_FR: narrow no-break spaces, no-break space before €)."""
    whole, rest = divmod(cents, 100)
    return f"{whole:,}".replace(",", NNBSP) + f",{rest:02d}{NBSP}€"


def test_a_session_without_members_is_flagged_then_edited_and_deleted_after_a_confirmation(page, live_server):
    _session_id, _number, call_id, _dossier, _reference = seed(live_server)
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    page.goto(f"{live_server.url}/comite/appels/{call_id}/seances/nouvelle")
    page.get_by_label(re.compile("Date et heure de la séance")).fill("2027-03-10T10:00")
    page.get_by_label("Lieu").fill("Préfecture de région, Lille")
    page.get_by_label(re.compile("Président")).fill("M. le Préfet de région")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Créer la séance").click()
    page.wait_for_load_state("domcontentloaded")
    heading = page.get_by_role("heading", level=1).inner_text()
    number = re.search(r"séance n° (\d+) du 10/03/2027 à 10:00", heading)[1]
    expect(page.locator("#sans-membres")).to_contain_text("Aucun membre du comité n'est invité")
    expect(page.get_by_role("button", name="Envoyer la convocation")).to_be_disabled()
    assert serious_violations(page) == []

    page.get_by_role("link", name=re.compile("Modifier la séance")).click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_label(re.compile("Date et heure")).input_value() == "2027-03-10T10:00"
    page.locator("label", has_text=MEMBER["name"]).click()
    expect(page.get_by_label(re.compile(MEMBER["name"]))).to_be_checked()
    page.get_by_label(re.compile("Date et heure de la séance")).fill("2027-03-12T14:30")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Enregistrer les modifications").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, f"Séance n° {number} modifiée.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"séance n° {number} du 12/03/2027 à 14:30")
    expect(page.locator("#sans-membres")).to_have_count(0)
    assert MEMBER["name"] in page.locator("main").inner_text()

    page.wait_for_load_state("load")
    page.get_by_role("button", name="Supprimer la séance").click()
    dialog = opened(page, "confirm-delete")
    expect(page.get_by_role("dialog", name=f"Supprimer la séance n° {number} ?")).to_be_visible()
    expect(dialog).to_contain_text("son numéro ne sera pas réattribué")
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Supprimer la séance").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, f"Séance n° {number} supprimée")
    assert f"Séance n° {number}" not in page.locator("table").inner_text()
    assert serious_violations(page) == []


def test_officer_convenes_holds_decides_corrects_and_closes_the_applicant_reads_the_grant(page, live_server):
    session_id, number, _call, dossier_id, reference = seed(live_server)
    login(page, live_server, OFFICER["email"], OFFICER["password"])
    url = f"{live_server.url}/comite/seances/{session_id}"
    page.goto(url)
    item = page.locator(".agenda-item", has_text=reference)
    expect(item).to_contain_text("Avis du service instructeur : Réservé")
    page.get_by_role("button", name="Envoyer la convocation").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, f"Convocation envoyée à 1 membre : {MEMBER['name']}.")
    expect(page.get_by_role("button", name="Renvoyer la convocation")).to_be_visible()
    page.get_by_role("button", name="Marquer la séance comme tenue").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, "Séance tenue")
    assert serious_violations(page) == []

    # The envelope follows the amounts while they are typed.
    proposed = page.locator("[data-envelope-proposed]")
    remaining = page.locator("[data-envelope-remaining]")
    start_proposed = int(proposed.get_attribute("data-cents"))
    start_remaining = int(remaining.get_attribute("data-cents"))
    item = page.locator(".agenda-item", has_text=reference)
    reperage = item.get_by_label(re.compile("volet repérage"))
    sortie = item.get_by_label(re.compile("volet sortie vers l'emploi"))
    retained_reperage = int(reperage.get_attribute("data-default"))
    item.get_by_text("Programmé", exact=True).click()
    reperage.fill("10 000,50")
    sortie.fill("5000")
    expect(proposed).to_have_text(euros(start_proposed + 1500050))
    expect(remaining).to_have_text(euros(start_remaining - 1500050))
    expect(item.locator("[data-envelope-preview]")).to_contain_text(
        f"reste disponible {euros(start_remaining - 1500050)}")
    item.get_by_text("Ajourné", exact=True).click()  # an adjournment grants nothing
    expect(proposed).to_have_text(euros(start_proposed))

    # A strand above its retained figure: the error summary, focused; the field says why; input kept.
    item.get_by_text("Programmé", exact=True).click()
    reperage.fill(f"{retained_reperage // 100 + 1},00")
    item.get_by_role("button", name=re.compile("Enregistrer la décision")).click()
    page.wait_for_load_state("load")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Le formulaire contient 1 erreur")
    expect(summary).to_contain_text("dépasse le maximum retenu à l'instruction pour ce volet")
    item = page.locator(".agenda-item", has_text=reference)
    expect(item.locator(".fr-error-text")).to_contain_text("dépasse le maximum retenu")
    expect(item.get_by_label(re.compile("volet sortie vers l'emploi"))).to_have_value("5000")
    assert serious_violations(page) == []

    item.get_by_label(re.compile("volet repérage")).fill("10 000,50")
    item.get_by_role("button", name=re.compile("Enregistrer la décision")).click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, f"Décision enregistrée pour le dossier {reference}")
    item = page.locator(".agenda-item", has_text=reference)
    expect(item.locator(".decision")).to_contain_text(euros(1500050))

    # Corrected before the closing: adjourned, then selected again with other amounts.
    item.get_by_text("Corriger la décision").click()
    item.get_by_text("Ajourné", exact=True).click()
    item.get_by_role("button", name=re.compile("Enregistrer la correction")).click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, f"Décision corrigée pour le dossier {reference}")
    item = page.locator(".agenda-item", has_text=reference)
    expect(item.locator(".decision")).to_contain_text("Ajourné")
    item.get_by_text("Corriger la décision").click()
    item.get_by_text("Programmé", exact=True).click()
    item.get_by_label(re.compile("volet repérage")).fill("20 000")
    item.get_by_label(re.compile("volet sortie vers l'emploi")).fill("10 000")
    item.get_by_role("button", name=re.compile("Enregistrer la correction")).click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, "Décision corrigée")
    assert serious_violations(page) == []

    # Closing asks first, naming what it sends.
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Clore la séance").click()
    dialog = page.get_by_role("dialog", name=f"Clore la séance n° {number} ?")
    expect(dialog).to_contain_text("1 lettre de notification est émise et envoyée par courriel aux porteurs")
    dialog.get_by_role("button", name="Clore la séance et envoyer les lettres").click()
    page.wait_for_load_state("domcontentloaded")
    expect_success(page, "Séance close")
    logout(page)

    # The applicant: the grant per strand, dated by the session, above the plan it rests on.
    login(page, live_server, APPLICANT["email"], APPLICANT["password"])
    page.goto(f"{live_server.url}/porteur/dossiers/{dossier_id}")
    decision = page.locator("#decision")
    expect(decision).to_contain_text(f"Aide FSE+ attribuée : {euros(3000000)}")
    expect(decision).to_contain_text(f"dont {euros(2000000)} pour le volet repérage et {euros(1000000)}")
    expect(decision).to_contain_text("décision du comité de sélection réuni le ")
    plan = page.locator("#plan-de-financement")
    expect(plan.get_by_role("row", name=re.compile("FSE\\+ attribué par le comité"))).to_contain_text(euros(3000000))
    expect(page.get_by_role("table", name="Plan de financement retenu à l'instruction")).to_be_visible()
    assert serious_violations(page) == []
