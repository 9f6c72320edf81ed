"""Dossier sections as a first real use found them (issue 15): a section saves whatever is
typed and completeness is judged at submission, the error summary links every error to
its field, post rows are added and removed without JavaScript, the identification starts
from the profile's contact."""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from grants.models import AuditEntry, Dossier, DossierState, Structure, User
from grants.operations import dossiers as ops
from grants.operations import review as review_ops
from tests.conftest import COMPLETE_CONTENT
from tests.views.test_applicant import version_of


def plain(page: str) -> str:
    return page.replace("\u202f", " ").replace("\xa0", " ").replace("&#39;", "'").replace("&#34;", '"')


def section_url(dossier_id: int, key: str) -> str:
    return f"/porteur/dossiers/{dossier_id}/sections/{key}"


def post_section(client, dossier_id: int, key: str, data: dict):  # type: ignore[no-untyped-def]
    page = client.get(section_url(dossier_id, key)).get_data(as_text=True)
    return client.post(section_url(dossier_id, key), data={"version": version_of(page), **data})


def stored(db, dossier_id: int) -> Dossier:  # type: ignore[no-untyped-def]
    db.session.remove()
    return db.session.get(Dossier, dossier_id)


# Item 9: save incomplete, completeness at submission ------------------------------------------


def test_a_title_alone_is_saved_and_what_is_missing_is_said_where_it_counts(client, login_as, users, db, make_dossier):
    """« vous pouvez enregistrer et revenir plus tard »: a title alone was refused with 3 errors."""
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    response = post_section(client, dossier.id, "project", {"title": "Aller vers les jeunes", "summary": "",
                                                            "start_date": "", "end_date": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/porteur/dossiers/{dossier.id}#section-project")
    saved = stored(db, dossier.id)
    assert saved.content["project"] == {"title": "Aller vers les jeunes", "summary": "", "start_date": None,
                                        "end_date": None}
    assert saved.title == "Aller vers les jeunes"
    missing = "À renseigner : « Résumé du projet », « Début de l'opération », « Fin de l'opération »."
    page = plain(client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True))
    assert missing in page
    assert "Aller vers les jeunes" in page  # the working copy reads back
    # The section itself says what is left, without any error.
    page = plain(client.get(section_url(dossier.id, "project")).get_data(as_text=True))
    assert "Pour pouvoir déposer, il reste à compléter dans cette section" in page and missing in page
    assert "fr-error-text" not in page and "data-error-summary" not in page
    assert 'value="Aller vers les jeunes"' in page
    # The submission page lists it, and submission is refused.
    assert missing in plain(client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True))
    client.post(f"/porteur/dossiers/{dossier.id}/deposer", data={"version": str(saved.version)})
    assert stored(db, dossier.id).state is DossierState.draft


@pytest.mark.parametrize(
    ("key", "data", "expected"),
    [
        ("identification", {"contact_name": "", "contact_email": "", "contact_phone": ""},
         "À renseigner : « Responsable du projet », « Son courriel », « Le projet est-il porté avec d'autres "
         "structures (consortium) ? »."),
        ("public", {"reperage-nb_jeunes": "150", "reperage-nb_jeunes_qpv": "", "sortie_emploi-nb_jeunes": "",
                    "sortie_emploi-nb_jeunes_qpv": "", "age_min": "16", "age_max": "",
                    "cej_qpv_share_current": "", "cej_qpv_share_target": "30"},
         "À renseigner : « Volet repérage — dont jeunes résidant en QPV », « Volet sortie vers l'emploi — "
         "Jeunes accompagnés », « Volet sortie vers l'emploi — dont jeunes résidant en QPV », « Âge maximum », "
         "« Part des jeunes QPV dans vos entrées en CEJ aujourd'hui (%) »."),
        ("indicators", {"identified": "250"},
         "À renseigner : « dont jeunes résidant en QPV », « Entrées en contrat d'engagement jeune (CEJ) », "
         "« Sorties vers l'emploi », « Sorties vers la formation », « Sorties vers l'apprentissage », "
         "« Jeunes toujours en emploi 6 mois après »."),
        ("territories", {}, "Aucun QPV choisi."),
        ("declaration", {"signatory_name": "Claire Exemple", "signatory_quality": ""}, "Signataire à indiquer."),
    ],
)
def test_every_section_saves_incomplete(client, login_as, users, db, make_dossier, key, data, expected):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    response = post_section(client, dossier.id, key, data)
    assert response.status_code == 302, plain(response.get_data(as_text=True))
    assert key in stored(db, dossier.id).content
    assert expected in plain(client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True))


def test_incomplete_post_is_saved_left_out_of_the_plan_and_named(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=("public",), attachments=False)
    login_as(users["applicant"])
    response = post_section(client, dossier.id, "resources", {
        "reperage-posts-0-label": "Chargé de mission repérage", "reperage-posts-0-category": "staff",
        "reperage-posts-0-annual_cost": "", "reperage-posts-0-fte": "1", "reperage-posts-0-months": "24",
        "reperage-posts-1-label": "Animatrice", "reperage-posts-1-annual_cost": "30 000",
        "reperage-posts-1-fte": "0,5", "reperage-posts-1-months": "12",
    })
    assert response.status_code == 302
    saved = stored(db, dossier.id)
    first, second = saved.content["resources"]["reperage"]["posts"]
    assert first == {"label": "Chargé de mission repérage", "category": "staff", "annual_cost": None,
                     "fte": "1.00", "months": 24}
    # The plan is computed from the complete line only: 30 000 × 0,5 × 12 / 12 = 15 000,00 €.
    assert saved.finance["result"]["strands"]["reperage"]["staff"] == "15000.00"
    page = plain(client.get(section_url(dossier.id, "resources")).get_data(as_text=True))
    assert ("Volet repérage, poste 1 « Chargé de mission repérage » : à renseigner : « Coût annuel chargé (€) ».") in page
    assert 'value="Chargé de mission repérage"' in page


def test_an_investment_line_is_saved_and_blocks_submission_through_its_finding(
    client, login_as, users, db, make_dossier
):
    dossier = make_dossier(users["applicant"])
    login_as(users["applicant"])
    response = post_section(client, dossier.id, "resources", {
        "reperage-posts-0-label": "Chargé de mission repérage", "reperage-posts-0-annual_cost": "42 000",
        "reperage-posts-0-fte": "1", "reperage-posts-0-months": "24",
        "reperage-posts-1-label": "Job-truck", "reperage-posts-1-category": "investment",
        "reperage-posts-1-annual_cost": "30 000", "reperage-posts-1-fte": "1", "reperage-posts-1-months": "12",
        "sortie_emploi-posts-0-label": "Chargé relations entreprises", "sortie_emploi-posts-0-annual_cost": "40 000",
        "sortie_emploi-posts-0-fte": "1", "sortie_emploi-posts-0-months": "24",
    })
    assert response.status_code == 302
    page = plain(client.get(section_url(dossier.id, "resources")).get_data(as_text=True))
    assert "Repérage, ligne « Job-truck » : le FSE+ ne finance pas l'investissement" in page
    assert "Repérage : Repérage" not in page  # the strand is named once
    assert "le FSE+ ne finance pas l'investissement" in plain(
        client.get(f"/porteur/dossiers/{dossier.id}/deposer").get_data(as_text=True))


@pytest.mark.parametrize(
    ("key", "data", "error"),
    [
        ("project", {"title": "Projet", "start_date": "31/02/2027"}, "Début de l'opération"),
        ("public", {"reperage-nb_jeunes": "cent"}, "Jeunes accompagnés"),
        ("public", {"age_min": "15"}, "Entre 16 et 29 ans."),
        ("resources", {"reperage-posts-0-label": "Chargé", "reperage-posts-0-fte": "1,5"}, "au plus 1"),
        ("identification", {"contact_email": "pas-un-courriel"}, "Adresse électronique invalide."),
    ],
)
def test_a_malformed_value_refuses_the_save_at_once_next_to_its_field(
    client, login_as, users, db, make_dossier, key, data, error
):
    dossier = make_dossier(users["applicant"], sections=("public",) if key == "resources" else (), attachments=False)
    before = copy.deepcopy(stored(db, dossier.id).content)
    login_as(users["applicant"])
    response = post_section(client, dossier.id, key, data)
    page = plain(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "data-error-summary" in page and error in page
    for value in data.values():
        assert f'value="{value}"' in page  # everything typed is kept
    assert stored(db, dossier.id).content == before


def test_stored_complete_content_is_still_complete(app, db, users, make_dossier):
    """Content saved before sections could be incomplete reads as complete, and submits."""
    dossier = make_dossier(users["applicant"])
    with app.test_request_context():
        from grants.dossier_sections import missing_items

        assert missing_items(db.session.get(Dossier, dossier.id)) == {
            key: [] for key in ("identification", "project", "territories", "public", "resources", "indicators",
                                "attachments", "declaration")
        }


def test_complements_cannot_be_sent_while_a_reopened_section_is_incomplete(app, db, users, make_submitted, store):
    dossier = make_submitted(users["applicant"])
    with app.test_request_context():
        review_ops.request_complements(
            db.session.get(Dossier, dossier.id), sections=["project"], attachment_types=[], message="Précisez.",
            due_date=date.today() + timedelta(days=30), actor=db.session.get(User, users["officer"].id),
        )
        db.session.commit()
        current = db.session.get(Dossier, dossier.id)
        applicant = db.session.get(User, users["applicant"].id)
        ops.save_section(current, "project", {**COMPLETE_CONTENT["project"], "summary": ""}, applicant,
                         current.version)
        with pytest.raises(ops.DossierError, match="Résumé du projet"):
            review_ops.answer_complements(current, applicant, store=store)
        db.session.rollback()
        current = db.session.get(Dossier, dossier.id)
        ops.save_section(current, "project", COMPLETE_CONTENT["project"], applicant, current.version)
        version = review_ops.answer_complements(current, applicant, store=store)
        assert version.number == 2 and current.state is DossierState.submitted


# Item 10: the error summary links each error to its field --------------------------------------


def test_the_error_summary_counts_every_error_and_links_each_to_its_field(client, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"], sections=("public",), attachments=False)
    login_as(users["applicant"])
    response = post_section(client, dossier.id, "resources", {
        "reperage-posts-0-label": "Chargé", "reperage-posts-0-annual_cost": "quarante mille",
        "reperage-posts-0-fte": "2", "reperage-posts-0-months": "60",
        "reperage-cofinancing-0-funder": "Ville", "reperage-cofinancing-0-amount": "-3",
        "sortie_emploi-requested": "beaucoup", "sortie_emploi-posts-0-fte": "0,001",
    })
    page = plain(response.get_data(as_text=True))
    summary = re.search(r"<div[^>]*data-error-summary.*?</div>", page, re.S).group(0)
    targets = re.findall(r'<a href="#([^"]+)">', summary)
    assert "Le formulaire contient 6 erreurs" in summary
    assert targets == ["reperage-posts-0-annual_cost", "reperage-posts-0-fte", "reperage-posts-0-months",
                       "reperage-cofinancing-0-amount", "sortie_emploi-posts-0-fte", "sortie_emploi-requested"]
    for target in targets:
        assert f'id="{target}"' in page
    # Each says where its field is: the same label appears once per strand and per row.
    assert ('<a href="#reperage-posts-0-annual_cost">Volet repérage, poste 1, Coût annuel chargé (€) : '
            "Saisissez un nombre, par exemple 42 000,50.</a>") in summary
    assert '<a href="#sortie_emploi-requested">Volet sortie vers l\'emploi, Montant FSE+ sollicité (€) :' in summary


def test_an_error_on_a_group_of_boxes_links_to_its_first_box(client, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"], sections=(), attachments=False)
    login_as(users["applicant"])
    page = plain(post_section(client, dossier.id, "territories", {"qpv_codes": ["QN99999Z"]}).get_data(as_text=True))
    summary = re.search(r"<div[^>]*data-error-summary.*?</div>", page, re.S).group(0)
    assert re.findall(r'<a href="#([^"]+)">', summary) == ["qpv_codes-0"]
    assert 'id="qpv_codes-0"' in page


# Item 11: post rows added and removed without JavaScript --------------------------------------


def test_add_and_remove_rows_without_javascript_keep_everything_and_save_nothing(
    client, login_as, users, db, make_dossier
):
    dossier = make_dossier(users["applicant"], sections=("public",), attachments=False)
    login_as(users["applicant"])
    url = section_url(dossier.id, "resources")
    page = client.get(url).get_data(as_text=True)
    assert len(re.findall(r'name="remove_row" value="reperage-posts-\d', page)) == 1  # one row to start with
    typed = {"version": version_of(page), "reperage-posts-0-label": "Chargé de mission repérage",
             "reperage-posts-0-annual_cost": "42 000,50", "reperage-posts-0-fte": "1", "reperage-posts-0-months": "24"}
    added = client.post(url, data={**typed, "add_row": "reperage-posts"})
    page = added.get_data(as_text=True)
    assert added.status_code == 200
    assert 'value="Chargé de mission repérage"' in page and 'value="42 000,50"' in page
    assert re.search(r'id="reperage-posts-1-label"[^>]*autofocus|autofocus[^>]*id="reperage-posts-1-label"', page)
    assert "Poste 2" in page
    assert "resources" not in stored(db, dossier.id).content  # nothing saved

    removed = client.post(url, data={**typed, "reperage-posts-1-label": "Animatrice",
                                     "remove_row": "reperage-posts-0"})
    page = removed.get_data(as_text=True)
    assert removed.status_code == 200
    assert 'value="Animatrice"' in page and "Chargé de mission repérage" not in page
    assert "resources" not in stored(db, dossier.id).content

    # Saving from the page shown again keeps the rows as they are on it.
    saved = client.post(url, data={"version": typed["version"], "save": "1", "reperage-posts-1-label": "Animatrice",
                                   "reperage-posts-1-annual_cost": "30 000", "reperage-posts-1-fte": "0,5",
                                   "reperage-posts-1-months": "12"})
    assert saved.status_code == 302
    assert [p["label"] for p in stored(db, dossier.id).content["resources"]["reperage"]["posts"]] == ["Animatrice"]


def test_enter_in_a_field_saves_the_section(client, login_as, users, make_dossier):
    """The form's default button (the first submit button) saves: Enter never removes a row."""
    dossier = make_dossier(users["applicant"], sections=("public", "resources"), attachments=False)
    login_as(users["applicant"])
    page = client.get(section_url(dossier.id, "resources")).get_data(as_text=True)
    form = page[page.index('<form method="post" novalidate>'):]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert 'name="save"' in first_button and 'type="submit"' in first_button


@pytest.mark.parametrize("value", ["reperage-posts-99", "nimporte-quoi", "reperage-cofinancing-x", ""])
def test_removing_a_row_that_does_not_exist_changes_nothing(client, login_as, users, make_dossier, value):
    dossier = make_dossier(users["applicant"], sections=("public", "resources"), attachments=False)
    login_as(users["applicant"])
    page = client.get(section_url(dossier.id, "resources")).get_data(as_text=True)
    response = client.post(section_url(dossier.id, "resources"), data={
        "version": version_of(page), "remove_row": value, "add_row": "" if value else "inconnu",
        "reperage-posts-0-label": "Chargé de mission repérage"})
    assert response.status_code == 200
    assert 'value="Chargé de mission repérage"' in response.get_data(as_text=True)


# Item 13: identification prefilled from the profile -------------------------------------------


def test_identification_starts_from_the_profile_contact(client, login_as, users, db, make_dossier):
    user = users["applicant"]
    dossier = make_dossier(user, sections=(), attachments=False)
    structure = db.session.get(Structure, user.structure_id)
    structure.contact_name, structure.contact_email, structure.contact_phone = (
        "Nadia Profil", "nadia@ml-exemple.fr", "03 21 00 00 00")
    db.session.commit()
    login_as(user)
    page = client.get(section_url(dossier.id, "identification")).get_data(as_text=True)
    for value in ("Nadia Profil", "nadia@ml-exemple.fr", "03 21 00 00 00"):
        assert f'value="{value}"' in page
    # Once the section is saved, its own content is shown, not the profile's.
    post_section(client, dossier.id, "identification", {"contact_name": "Karim Projet", "contact_email": "k@ml.fr",
                                                        "consortium": "no"})
    page = client.get(section_url(dossier.id, "identification")).get_data(as_text=True)
    assert 'value="Karim Projet"' in page and "Nadia Profil" not in page


def test_no_audit_entry_for_rows_shown_again(client, login_as, users, db, make_dossier):
    dossier = make_dossier(users["applicant"], sections=("public",), attachments=False)
    login_as(users["applicant"])
    page = client.get(section_url(dossier.id, "resources")).get_data(as_text=True)
    count = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "dossier.save_section")
    before = db.session.scalar(count)
    client.post(section_url(dossier.id, "resources"), data={"version": version_of(page), "add_row": "reperage-posts"})
    assert db.session.scalar(count) == before


def test_complement_request_text_keeps_its_line_breaks(app, client, db, login_as, users, make_submitted):
    dossier = make_submitted(users["applicant"])
    text = "Bonjour,\nmerci de préciser :\n- le calendrier\n- les partenaires"
    with app.test_request_context():
        review_ops.request_complements(
            db.session.get(Dossier, dossier.id), sections=["project"], attachment_types=[], message=text,
            due_date=date.today() + timedelta(days=30), actor=db.session.get(User, users["officer"].id),
        )
        db.session.commit()
    login_as(users["applicant"])
    page = client.get(f"/porteur/dossiers/{dossier.id}").get_data(as_text=True)
    assert f'<p class="fr-callout__text pre">{text}</p>' in page.replace("&#39;", "'")


# Item 15: the plan says the true cause ---------------------------------------------------------


def test_the_plan_waits_only_for_the_sections_not_yet_saved(client, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"], sections=("public",), attachments=False)
    login_as(users["applicant"])
    page = plain(client.get(section_url(dossier.id, "resources")).get_data(as_text=True))
    assert "Le plan de financement sera calculé dès que la section « Moyens par volet » sera enregistrée." in page
    assert "dès que la section « Public et objectifs »" not in page
    empty = make_dossier(users["applicant"], sections=(), attachments=False)
    page = plain(client.get(f"/porteur/dossiers/{empty.id}").get_data(as_text=True))
    assert ("Le plan de financement sera calculé dès que les sections « Public et objectifs » et "
            "« Moyens par volet » seront enregistrées.") in page


def test_an_over_financed_strand_reads_once_with_its_figures_and_no_mixed_total(client, login_as, users, make_dossier):
    dossier = make_dossier(users["applicant"], attachments=False)
    login_as(users["applicant"])
    # Sortie vers l'emploi: 80 QPV young people, renforcé 112 000,00 €, co-financed 115 600,00 €.
    response = post_section(client, dossier.id, "resources", {
        "reperage-posts-0-label": "Chargé de mission repérage", "reperage-posts-0-annual_cost": "42 000",
        "reperage-posts-0-fte": "1", "reperage-posts-0-months": "24",
        "sortie_emploi-posts-0-label": "Chargé relations entreprises", "sortie_emploi-posts-0-annual_cost": "40 000",
        "sortie_emploi-posts-0-fte": "1", "sortie_emploi-posts-0-months": "24",
        "sortie_emploi-cofinancing-0-funder": "Région", "sortie_emploi-cofinancing-0-amount": "115 600",
        "sortie_emploi-requested": "200 000",
    })
    assert response.status_code == 302
    page = plain(client.get(section_url(dossier.id, "resources")).get_data(as_text=True))
    assert ("Sortie vers l'emploi : les autres cofinancements (115 600,00 €) dépassent le renforcé (112 000,00 €) ; "
            "l'opération serait surfinancée de 3 600,00 € (autofinancement négatif).") in page
    assert ("Sortie vers l'emploi : le FSE+ demandé (200 000,00 €) dépasse le maximum de 60 % de la base "
            "subventionnable (97 920,00 €) ; aucun FSE+ n'est retenu, le volet étant surfinancé.") in page
    assert "ramené à 0,00 €" not in page and "Sortie vers l'emploi : Sortie vers l'emploi" not in page
    assert "non additionné (note)" in page and 'id="note-autofinancement"' in page
    assert "Total autofinancement : non additionné" in page
