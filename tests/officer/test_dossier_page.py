"""The officer's dossier page: a failed form opens its tab with the error summary; checklist
errors name the criterion by its label, next to its field; irreversible decisions ask for
confirmation; complements received say so; the history filters downloads apart; the
instruction form shows the requested value beside each retained one."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from grants.models import Dossier, DossierState, User
from grants.operations import review as review_ops
from grants.operations.audit import log_download

from .test_review import checklist_data, submitted  # noqa: F401  (fixture)


def selected_tab(page: str) -> str:
    """The tab the page opens on (aria-selected), and check its panel is the one shown."""
    [tab] = re.findall(r'id="tab-([a-z]+)" class="fr-tabs__tab" tabindex="0" role="tab" aria-selected="true"', page)
    [panel] = re.findall(r'id="panel-([a-z]+)" class="fr-tabs__panel fr-tabs__panel--selected"', page)
    assert tab == panel
    return tab


def summary_in_panel(page: str, panel: str) -> str:
    """The error summary, which must sit in ``panel``."""
    start = page.index(f'id="panel-{panel}"')
    following = page.find('id="panel-', start + 1)
    body = page[start:following if following > 0 else len(page)]
    assert "data-error-summary" in body, f"no error summary in the {panel} tab"
    return body.split("data-error-summary", 1)[1].split("</div>", 1)[0]


def test_the_page_opens_on_the_submitted_content_or_the_tab_asked(client, login_as, users, submitted):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    assert selected_tab(client.get(base).get_data(as_text=True)) == "contenu"
    assert selected_tab(client.get(f"{base}?onglet=versions").get_data(as_text=True)) == "versions"
    assert selected_tab(client.get(f"{base}?onglet=nimporte").get_data(as_text=True)) == "contenu"


def test_an_empty_complements_request_opens_the_admissibility_tab_with_its_summary(client, login_as, users, db,
                                                                                    submitted):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    response = client.post(f"{base}/complements", data={"message": "", "due_date": ""}, csrf_from=base)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert selected_tab(page) == "recevabilite"
    summary = summary_in_panel(page, "recevabilite")
    assert "Le formulaire contient 3 erreurs" in summary  # every error at once
    assert '<a href="#sections-0">Sections à compléter : Choisissez au moins une section' in summary  # first box
    assert '<a href="#message">Message au porteur : Ce champ est obligatoire.</a>' in summary
    assert '<a href="#due_date">Échéance : Ce champ est obligatoire.</a>' in summary
    assert db.session.get(Dossier, submitted.id).state is DossierState.submitted


def test_a_refused_complements_request_says_why_next_to_the_field(client, login_as, users, submitted):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    response = client.post(f"{base}/complements", data={
        "message": "Précisez le calendrier.", "due_date": date.today().isoformat()}, csrf_from=base)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and selected_tab(page) == "recevabilite"
    summary = summary_in_panel(page, "recevabilite")
    assert '<a href="#sections-0">Sections à compléter : Choisissez au moins une section' in summary  # first box
    assert 'id="sections-messages"' in page  # the message inside the sections' fieldset
    assert "Précisez le calendrier." in page  # the input is kept


def test_a_checklist_error_opens_its_tab_and_names_the_criterion_by_its_label(client, login_as, users, submitted):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    response = client.post(f"{base}/recevabilite", data=checklist_data(submitted, value_expenses="fail")
                           | {"decision": ""}, csrf_from=base)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and selected_tab(page) == "recevabilite"
    summary = summary_in_panel(page, "recevabilite")
    message = ("Critère « Frais de personnel uniquement, pas d&#39;investissement » : un commentaire est "
               "obligatoire pour s&#39;écarter de l&#39;avis du système.")
    assert f'<a href="#comment_expenses">Commentaire : {message}</a>' in summary
    assert "« expenses »" not in page
    # Next to the field, which keeps what was typed.
    assert re.search(r'id="comment_expenses"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="comment_expenses"',
                     page)
    declared = client.post(f"{base}/recevabilite", data=checklist_data(submitted, value_tax_social="")
                           | {"decision": "admissible"}, csrf_from=base).get_data(as_text=True)
    assert "non renseignés : « Régularité fiscale et sociale »" in summary_in_panel(declared, "recevabilite")
    assert 'href="#value_tax_social-0"' in declared and 'id="value_tax_social-0"' in declared  # its first button
    no_motive = client.post(f"{base}/recevabilite", data=checklist_data(
        submitted, value_tax_social="fail", comment_tax_social="Attestation périmée") | {"decision": "inadmissible"},
        csrf_from=base).get_data(as_text=True)
    assert "<a href=\"#motive\">" in summary_in_panel(no_motive, "recevabilite")


def test_a_saved_checklist_comes_back_on_its_tab(client, login_as, users, submitted):
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"
    response = client.post(f"{base}/recevabilite", data=checklist_data(submitted) | {"decision": ""},
                           csrf_from=base)
    assert response.status_code == 302 and response.headers["Location"].endswith("?onglet=recevabilite")


def test_irreversible_decisions_ask_for_confirmation(client, login_as, users, submitted):
    login_as(users["officer"])
    page = client.get(f"/instruction/dossiers/{submitted.id}").get_data(as_text=True)
    for decision, dialog in (("admissible", "confirm-admissible"), ("inadmissible", "confirm-inadmissible")):
        assert re.search(rf'value="{decision}" class="fr-btn[^"]*" data-confirm="{dialog}"', page)
        assert f'<dialog aria-labelledby="{dialog}-title" role="dialog" id="{dialog}"' in page
    assert "Déclarer le dossier recevable ?" in page and "Déclarer le dossier irrecevable ?" in page


def test_complements_received_are_announced_on_the_page(app, client, login_as, users, db, submitted, store):
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        review_ops.request_complements(dossier, sections=["project"], attachment_types=[], message="Précisez.",
                                       due_date=date.today() + timedelta(days=10),
                                       actor=db.session.get(User, users["officer"].id))
        review_ops.answer_complements(dossier, db.session.get(User, users["applicant"].id), store=store)
        db.session.commit()
    login_as(users["officer"])
    page = client.get(f"/instruction/dossiers/{submitted.id}").get_data(as_text=True)
    assert "Compléments reçus le " in page and "version n° 2 à examiner" in page
    assert f"/instruction/dossiers/{submitted.id}/versions/comparaison?de=1&amp;a=2" in page


def test_the_history_filters_business_events_apart_from_downloads(app, client, login_as, users, db, submitted):
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        log_download(dossier, db.session.get(User, users["officer"].id), "receipt", "accuse-reception.pdf")
        db.session.commit()
    login_as(users["officer"])
    base = f"/instruction/dossiers/{submitted.id}"

    def timeline(query: str) -> str:
        page = client.get(f"{base}?{query}").get_data(as_text=True)
        assert selected_tab(page) == "historique"
        return page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]

    everything = timeline("onglet=historique")
    decisions = timeline("historique=decisions")
    downloads = timeline("historique=telechargements")
    assert "Accusé de réception téléchargé" in everything and "Déposer le dossier" in everything
    assert "Accusé de réception téléchargé" not in decisions and "Déposer le dossier" in decisions
    assert "Accusé de réception téléchargé" in downloads and "Déposer le dossier" not in downloads
    page = client.get(f"{base}?historique=decisions").get_data(as_text=True)
    assert re.search(r'aria-current="true">Décisions et modifications \(\d+\)', page)
    assert "Téléchargements et consultations (1)" in page


@pytest.fixture
def admissible(app, db, users, submitted):
    with app.test_request_context():
        dossier = db.session.get(Dossier, submitted.id)
        officer = db.session.get(User, users["officer"].id)
        review = review_ops.get_review(dossier)
        review_ops.save_checklist(review, {c["code"]: {"value": "pass", "comment": ""}
                                           for c in dossier.call.admissibility_criteria}, officer, None)
        from grants.models import AdmissibilityOutcome

        review_ops.record_admissibility(review, AdmissibilityOutcome.admissible, "", officer)
        db.session.commit()
    return submitted


def test_the_instruction_form_shows_what_was_requested_and_asks_before_closing(client, login_as, users, admissible):
    login_as(users["officer"])
    page = client.get(f"/instruction/dossiers/{admissible.id}/instruction").get_data(as_text=True)
    labels = re.findall(r'<label class="fr-label" for="([^"]+)">[^<]*(?:<span[^>]*>\*</span>)?\s*'
                        r'<span class="fr-hint-text">([^<]*)</span>', page)
    hints = dict(labels)
    assert hints["reperage-nb_jeunes_qpv"] == "Demandé : 120."
    assert hints["sortie_emploi-nb_jeunes_qpv"] == "Demandé : 80."
    assert hints["reperage-posts-0-label"] == "Demandé : « Chargé de mission repérage »."
    assert hints["reperage-posts-0-annual_cost"] == "Demandé : 42\u202f000,00\u00a0€."
    assert hints["reperage-posts-0-fte"] == "Demandé : 1."
    assert hints["reperage-posts-0-months"] == "Demandé : 24."
    assert hints["reperage-other_cofinancing"] == "Demandé : 0,00\u00a0€."
    assert hints["reperage-requested"] == "Demandé : aucun montant. Laisser vide : pas de plafond."
    assert "reperage-posts-1-label" not in hints  # the spare row asks nothing
    assert re.search(r'name="final" value="1" class="fr-btn" data-confirm="confirm-instructed"', page)
    assert "Clore l&#39;instruction ?" in page
