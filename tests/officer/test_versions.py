"""Every version readable by officers, and what changed between two, field by field."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from grants.models import Dossier, User
from grants.officer.versions import ADDED, CHANGED, REMOVED, REPLACED, compare_snapshots, summary
from grants.operations import review as review_ops
from grants.operations.dossiers import add_attachment, save_section, submit_dossier
from tests.conftest import COMPLETE_CONTENT, SAMPLE_PDF

# The comparison, as pure functions ---------------------------------------------------------


def snapshot(**sections):  # noqa: ANN003
    content = copy.deepcopy(COMPLETE_CONTENT)
    content.update(sections)
    return {
        "structure": {"name": "Mission locale du Valenciennois", "siret": "12345678900011", "kind": "mission_locale"},
        "content": content,
        "attachments": [
            {"id": 1, "type_code": "statuts", "type_label": "Statuts de la structure", "display_name": "statuts.pdf",
             "size": 2048, "sha256": "a" * 64},
            {"id": 2, "type_code": "rib", "type_label": "Relevé d'identité bancaire (RIB)", "display_name": "rib.pdf",
             "size": 1024, "sha256": "b" * 64},
        ],
        "finance": {"result": {"strands": {"reperage": {"fse": "100.00"}, "sortie_emploi": {"fse": "50.00"}},
                               "totals": {"fse": "150.00"}}},
    }


def changes_of(before, after, key, **kwargs):  # noqa: ANN001, ANN003
    sections = {s.key: s for s in compare_snapshots(before, after, **kwargs)}
    return [(c.label, c.before, c.after, c.kind) for c in sections[key].changes]


def test_identical_versions_have_no_change():
    sections = compare_snapshots(snapshot(), snapshot())
    assert [s.changes for s in sections] == [[] for _ in sections]
    assert summary(sections) == ["Aucune modification"]
    # Every section of the dossier is listed, in order, with the structure and the plan.
    assert [s.title for s in sections][:2] == ["Structure porteuse", "Identification"]
    assert sections[-1].title == "Plan de financement calculé"


@pytest.mark.parametrize(
    ("key", "section", "expected"),
    [
        ("project", {"title": "Aller vers les jeunes de Denain", "summary": "Repérage et accompagnement.",
                     "start_date": "2027-02-01", "end_date": "2028-12-31"},
         [("Intitulé du projet", "Aller vers les jeunes des quartiers", "Aller vers les jeunes de Denain", CHANGED),
          ("Début de l'opération", "01/01/2027", "01/02/2027", CHANGED)]),
        ("identification", {**COMPLETE_CONTENT["identification"], "consortium": "yes"},
         [("Consortium", "Non, structure unique", "Oui, avec d'autres structures", CHANGED)]),
        ("public", {**COMPLETE_CONTENT["public"], "reperage": {"nb_jeunes": 150, "nb_jeunes_qpv": 130},
                    "cej_qpv_share_target": "32.5"},
         [("Repérage — dont jeunes résidant en QPV", "120", "130", CHANGED),
          ("Part des jeunes QPV visée", "30 %", "32,5 %", CHANGED)]),
        ("indicators", {**COMPLETE_CONTENT["indicators"], "cej_entries": 1500},
         [("Entrées en contrat d'engagement jeune (CEJ)", "120", "1\u202f500", CHANGED)]),
        ("declaration", {**COMPLETE_CONTENT["declaration"], "sworn": False},
         [("Attestation sur l'honneur", "signée", "non signée", CHANGED)]),
    ],
)
def test_fields_are_compared_with_french_labels_and_formats(key, section, expected):
    assert changes_of(snapshot(), snapshot(**{key: section}), key) == expected


def test_posts_and_cofinancing_lines_are_matched_by_their_label():
    resources = copy.deepcopy(COMPLETE_CONTENT["resources"])
    resources["reperage"]["posts"][0]["annual_cost"] = "45000.00"
    resources["reperage"]["posts"][0]["fte"] = "0.8"
    resources["reperage"]["posts"].append({"label": "Médiateur", "category": "staff", "annual_cost": "30000.00",
                                           "fte": "0.5", "months": 12})
    resources["sortie_emploi"]["posts"] = []
    resources["sortie_emploi"]["cofinancing"] = [{"funder": "Conseil départemental", "amount": "10000.00",
                                                  "status": "acquired"}]
    resources["sortie_emploi"]["requested"] = "60000.00"
    changes = changes_of(snapshot(), snapshot(resources=resources), "resources")
    assert changes == [
        ("Repérage — poste « Chargé de mission repérage » — coût annuel chargé", "42\u202f000,00\u00a0€",
         "45\u202f000,00\u00a0€", CHANGED),
        ("Repérage — poste « Chargé de mission repérage » — quotité (ETP)", "1", "0,8", CHANGED),
        ("Repérage — poste ajouté", "—", "Médiateur : 30\u202f000,00\u00a0€ par an, 0,5 ETP, 12 mois", ADDED),
        ("Sortie vers l'emploi — poste retiré",
         "Chargé relations entreprises : 40\u202f000,00\u00a0€ par an, 1 ETP, 24 mois", "—", REMOVED),
        ("Sortie vers l'emploi — cofinancement ajouté", "—", "Conseil départemental : 10\u202f000,00\u00a0€ (acquis)",
         ADDED),
        ("Sortie vers l'emploi — FSE+ sollicité", "le maximum calculé", "60\u202f000,00\u00a0€", CHANGED),
    ]


def test_qpv_are_named_when_added_or_removed():
    after = snapshot(territories={"qpv_codes": ["QN08001M"]})
    changes = changes_of(snapshot(), after, "territories",
                         qpv_names={"QN05901M": "Quartier test Lille", "QN08001M": "Quartier test Amiens"})
    assert changes == [("QPV retiré", "Quartier test Lille (QN05901M)", "—", REMOVED),
                       ("QPV ajouté", "—", "Quartier test Amiens (QN08001M)", ADDED)]


def test_pieces_added_replaced_removed():
    after = snapshot()
    after["attachments"] = [
        {"id": 3, "type_code": "rib", "type_label": "Relevé d'identité bancaire (RIB)", "display_name": "rib-2025.pdf",
         "size": 3072, "sha256": "c" * 64},
        {"id": 4, "type_code": "mandat", "type_label": "Délibération ou mandat du signataire",
         "display_name": "mandat.pdf", "size": 1024, "sha256": "d" * 64},
    ]
    sections = {s.key: s for s in compare_snapshots(snapshot(), after)}
    changes = sections["attachments"].changes
    assert [(c.label, c.before, c.after, c.kind) for c in changes] == [
        ("Statuts de la structure", "statuts.pdf (2 Ko)", "—", REMOVED),
        ("Relevé d'identité bancaire (RIB)", "rib.pdf (1 Ko)", "rib-2025.pdf (3 Ko)", REPLACED),
        ("Délibération ou mandat du signataire", "—", "mandat.pdf (1 Ko)", ADDED),
    ]
    assert changes[1].before_attachment["id"] == 2 and changes[1].after_attachment["id"] == 3
    assert summary(list(sections.values())) == ["Pièce « rib-2025.pdf »", "Pièce « mandat.pdf »"]


def test_structure_and_plan_changes_are_listed():
    after = snapshot()
    after["structure"] = {**after["structure"], "name": "Mission locale Valenciennes Métropole"}
    after["finance"] = {"result": {"strands": {"reperage": {"fse": "90.00"}, "sortie_emploi": {"fse": "50.00"}},
                                   "totals": {"fse": "140.00"}}}
    assert changes_of(snapshot(), after, "structure") == [
        ("Nom de la structure", "Mission locale du Valenciennois", "Mission locale Valenciennes Métropole", CHANGED)]
    assert changes_of(snapshot(), after, "finance") == [
        ("Repérage — FSE+ retenu", "100,00\u00a0€", "90,00\u00a0€", CHANGED),
        ("Total — FSE+ retenu", "150,00\u00a0€", "140,00\u00a0€", CHANGED),
    ]
    # The plan follows from the sections: the summary names the structure only.
    assert summary(compare_snapshots(snapshot(), after)) == ["Structure porteuse"]


def test_an_unknown_field_is_still_shown():
    after = snapshot(project={**COMPLETE_CONTENT["project"], "website": "https://ml.example"})
    assert changes_of(snapshot(), after, "project") == [("website", "—", "https://ml.example", CHANGED)]


# The pages ------------------------------------------------------------------------------------


@pytest.fixture
def answered(app, db, users, make_dossier, store):
    """Version 1 submitted; complements requested on the project, the resources and the RIB;
    version 2 answers them: new title, a post's cost raised, the RIB replaced."""
    dossier = make_dossier(users["applicant"])
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        applicant, officer = db.session.get(User, users["applicant"].id), db.session.get(User, users["officer"].id)
        submit_dossier(dossier, applicant, store=store, expected_version=dossier.version)
        review_ops.request_complements(dossier, sections=["project", "resources"], attachment_types=["rib"],
                                       message="Précisez.", due_date=date.today() + timedelta(days=15), actor=officer)
        save_section(dossier, "project", {**COMPLETE_CONTENT["project"], "title": "Titre précisé"}, applicant,
                     dossier.version)
        resources = copy.deepcopy(COMPLETE_CONTENT["resources"])
        resources["reperage"]["posts"][0]["annual_cost"] = "45000.00"
        save_section(dossier, "resources", resources, applicant, dossier.version)
        add_attachment(dossier, "rib", "rib-signe.pdf", SAMPLE_PDF + b"% signed\n", applicant, store=store,
                       max_bytes=10 * 1024 * 1024)
        review_ops.answer_complements(dossier, applicant, store=store)
        db.session.commit()
    return db.session.get(Dossier, dossier.id)


def test_every_version_has_its_page(client, login_as, users, db, answered):
    first, second = answered.versions
    login_as(users["officer"])
    old_rib = next(a for a in first.snapshot["attachments"] if a["type_code"] == "rib")
    new_rib = next(a for a in second.snapshot["attachments"] if a["type_code"] == "rib")
    page = client.get(f"/instruction/dossiers/{answered.id}/versions/1").get_data(as_text=True)
    assert "version n° 1" in page and "Aller vers les jeunes des quartiers" in page and "Titre précisé" not in page
    assert "42\u202f000,00\u00a0€ par an" in page  # the content as it was submitted then
    assert first.sha256 in page
    assert "Plan de financement demandé (version 1)" in page
    assert f"/dossiers/{answered.id}/pieces/{old_rib['id']}" in page
    assert f"/dossiers/{answered.id}/pieces/{new_rib['id']}" not in page
    assert "la version en vigueur est la n° 2" in page
    assert f"/dossiers/{answered.id}/versions/1/accuse-reception.pdf" in page
    page = client.get(f"/instruction/dossiers/{answered.id}/versions/2").get_data(as_text=True)
    assert "Titre précisé" in page and "45\u202f000,00\u00a0€ par an" in page
    assert f"/dossiers/{answered.id}/pieces/{new_rib['id']}/apercu" in page
    assert "Modifié depuis la version 1 : Projet et période, Moyens par volet, Pièce « rib-signe.pdf »." in page
    assert f"/instruction/dossiers/{answered.id}/versions/comparaison?de=1&amp;a=2" in page
    assert client.get(f"/instruction/dossiers/{answered.id}/versions/3").status_code == 404
    # An older version's pièce, replaced since, is still downloadable.
    assert client.get(f"/dossiers/{answered.id}/pieces/{old_rib['id']}").status_code == 200


def test_comparison_field_by_field(client, login_as, users, db, answered):
    first, second = answered.versions
    login_as(users["officer"])
    old_rib = next(a for a in first.snapshot["attachments"] if a["type_code"] == "rib")
    new_rib = next(a for a in second.snapshot["attachments"] if a["type_code"] == "rib")
    response = client.get(f"/instruction/dossiers/{answered.id}/versions/comparaison?de=1&a=2")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "comparaison des versions n° 1 et n° 2" in page
    for expected in ("Intitulé du projet", "Aller vers les jeunes des quartiers", "Titre précisé",
                     "Repérage — poste « Chargé de mission repérage » — coût annuel chargé",
                     "42\u202f000,00\u00a0€", "45\u202f000,00\u00a0€", "remplacé",
                     "Relevé d&#39;identité bancaire (RIB)", "Plan de financement calculé"):
        assert expected in page, expected
    assert f"/dossiers/{answered.id}/pieces/{old_rib['id']}" in page
    assert f"/dossiers/{answered.id}/pieces/{new_rib['id']}" in page
    assert "Sans modification : Structure porteuse, Identification, Territoires" in page
    # The last two versions by default, in either order, and one version against itself.
    assert "Titre précisé" in client.get(f"/instruction/dossiers/{answered.id}/versions/comparaison").get_data(
        as_text=True)
    assert "comparaison des versions n° 1 et n° 2" in client.get(
        f"/instruction/dossiers/{answered.id}/versions/comparaison?de=2&a=1").get_data(as_text=True)
    same = client.get(f"/instruction/dossiers/{answered.id}/versions/comparaison?de=2&a=2").get_data(as_text=True)
    assert "Choisissez deux versions différentes" in same
    assert client.get(f"/instruction/dossiers/{answered.id}/versions/comparaison?de=1&a=7").status_code == 404
    assert client.get(f"/instruction/dossiers/{answered.id}/versions/comparaison?de=x").status_code == 200


def test_the_versions_tab_links_each_version_and_its_changes(client, login_as, users, answered):
    login_as(users["officer"])
    page = client.get(f"/instruction/dossiers/{answered.id}").get_data(as_text=True)
    versions = page.split('id="panel-versions"', 1)[1].split('id="panel-historique"', 1)[0]
    assert f'href="/instruction/dossiers/{answered.id}/versions/1"' in versions
    assert f'href="/instruction/dossiers/{answered.id}/versions/2"' in versions
    assert f'href="/instruction/dossiers/{answered.id}/versions/comparaison?de=1&amp;a=2"' in versions
    assert "Modifié depuis la version 1 : Projet et période, Moyens par volet, Pièce « rib-signe.pdf »." in versions


def test_a_single_version_has_nothing_to_compare(client, login_as, users, make_submitted):
    dossier = make_submitted(users["applicant"])
    login_as(users["officer"])
    assert client.get(f"/instruction/dossiers/{dossier.id}/versions/1").status_code == 200
    assert client.get(f"/instruction/dossiers/{dossier.id}/versions/comparaison").status_code == 404


@pytest.mark.parametrize(("who", "expected"), [("applicant", 403), ("other_applicant", 403), ("committee", 404),
                                               ("anonymous", 302), ("officer", 200), ("admin", 200)])
@pytest.mark.parametrize("path", ["versions/1", "versions/2", "versions/comparaison?de=1&a=2"])
def test_version_pages_access(client, login_as, users, answered, who, expected, path):
    if who != "anonymous":
        login_as(users[who])
    assert client.get(f"/instruction/dossiers/{answered.id}/{path}").status_code == expected


def test_the_timeline_speaks_french(client, login_as, users, answered):
    login_as(users["officer"])
    page = client.get(f"/instruction/dossiers/{answered.id}").get_data(as_text=True)
    timeline = page.split('id="panel-historique"', 1)[1]
    assert "(Brouillon → Déposé)" in timeline
    assert "(Déposé → Compléments demandés)" in timeline
    assert "(Compléments demandés → Déposé)" in timeline
    assert "Section « Projet et période » enregistrée" in timeline
    assert "Pièce ajoutée : « rib-signe.pdf »" in timeline
    for code in ("submitted", "complements_requested", "draft", "dossier.save_section", "dossier.add_attachment"):
        assert code not in timeline, code
