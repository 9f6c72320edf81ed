"""What an admin sees (issue 15, item 23): a call duplicated, its rates as percentages, its
lists as rows added and removed; a QPV list uploaded and searched; an account deactivated
after a confirmation dialog, then reactivated. Axe finds nothing serious on these pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from grants.demo import DEMO_ACCOUNTS

from .conftest import login
from .test_login import serious_violations
from .test_officer_journey import expect_success
from .test_officer_pages import opened

ADMIN = next(a for a in DEMO_ACCOUNTS if a["email"] == "admin@dreets-hdf.demo")


def admin_page(page, live_server, path: str) -> None:  # type: ignore[no-untyped-def]
    """Type the password again, as admin actions ask (on the first of them), then open ``path``."""
    page.goto(f"{live_server.url}/admin/comptes/nouveau")
    page.wait_for_load_state("load")
    if "/compte/confirmation" in page.url:
        page.locator("input[name=password]").fill(ADMIN["password"])
        page.get_by_role("button", name="Confirmer").click()
        page.wait_for_load_state("load")
    assert "/compte/confirmation" not in page.url
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("load")


def test_a_call_is_duplicated_with_its_rates_and_its_rows(page, live_server):
    login(page, live_server, ADMIN["email"], ADMIN["password"])
    admin_page(page, live_server, "/admin/appels")
    page.get_by_role("link", name="Dupliquer l'appel AAP-QPV-DEMO pour sa prochaine édition").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle édition de l'appel AAP-QPV-DEMO")
    expect(page.get_by_label(re.compile(r"^Taux d'intervention FSE\+ \(%\)"))).to_have_value("60")
    expect(page.get_by_label(re.compile(r"^Taux forfaitaire des coûts restants \(%\)"))).to_have_value("40")
    expect(page.get_by_label(re.compile(r"^Code de l'appel"))).to_have_value("")
    assert serious_violations(page) == []

    pieces = page.locator("#required_attachments-table tbody tr")
    before = pieces.count()
    page.get_by_role("button", name=re.compile("^Ajouter une ligne : pièces obligatoires")).click()
    expect(pieces).to_have_count(before + 1)
    new = pieces.last
    expect(new.locator("input[type=text]").first).to_be_focused()
    new.get_by_label(re.compile(rf"^Code, ligne {before + 1}$")).fill("bilan_n1")
    new.get_by_label(re.compile(rf"^Libellé, ligne {before + 1}$")).fill("Bilan de l'exercice N-1")
    pieces.nth(1).get_by_text("Supprimer").click()  # the RIB
    page.get_by_label(re.compile(r"^Code de l'appel")).fill("AAP-QPV-NAV")
    page.get_by_label(re.compile(r"^Intitulé")).fill("Parcours QPV — édition suivante (test navigateur)")
    page.get_by_label(re.compile(r"^Ouverture")).fill("2027-11-25T00:00")
    page.get_by_label(re.compile(r"^Clôture")).fill("2028-03-26T23:59")
    page.get_by_label(re.compile(r"^Taux d'intervention FSE\+")).fill("55 %")
    page.get_by_role("button", name="Créer la nouvelle édition").click()
    page.wait_for_load_state("load")
    expect_success(page, "Paramètres, listes et textes repris de l'appel AAP-QPV-DEMO")

    page.get_by_role("link", name="Modifier l'appel AAP-QPV-NAV").click()
    page.wait_for_load_state("load")
    expect(page.get_by_label(re.compile(r"^Taux d'intervention FSE\+"))).to_have_value("55")
    codes = [value for value in page.locator("#required_attachments-table tbody .rows-table__code input")
             .evaluate_all("inputs => inputs.map(i => i.value)") if value]
    assert "rib" not in codes and codes[-1] == "bilan_n1" and codes[0] == "statuts"


def test_a_qpv_list_is_uploaded_then_searched(page, live_server, tmp_path):
    bad, good = tmp_path / "mauvais.csv", tmp_path / "qpv-somme.csv"
    bad.write_text("nom;commune\nA;B\n", encoding="utf-8")
    good.write_text("code_qp;lib_qp;insee_com;lib_com\nQN08001M;Étouvie;80021;Amiens\n"
                    "QN08003M;Amiens Nord;80021;Amiens\nQN05901M;Lille Sud;59350;Lille\n", encoding="utf-8")
    login(page, live_server, ADMIN["email"], ADMIN["password"])
    admin_page(page, live_server, "/admin/qpv")
    page.get_by_role("link", name="Charger une liste de QPV").click()
    page.wait_for_load_state("load")
    assert serious_violations(page) == []
    page.get_by_label(re.compile("^Fichier CSV de la liste")).set_input_files(bad)
    page.get_by_label(re.compile("^Nom de la liste")).fill("QPV de la Somme (test navigateur)")
    page.get_by_role("button", name="Charger la liste").click()
    page.wait_for_load_state("load")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("« mauvais.csv » n'a pas été chargé : En-tête non reconnu")
    expect(page.get_by_label(re.compile("^Nom de la liste"))).to_have_value("QPV de la Somme (test navigateur)")
    assert serious_violations(page) == []

    page.get_by_label(re.compile("^Fichier CSV de la liste")).set_input_files(good)
    page.locator("label", has_text="59 — Nord").click()  # DSFR draws the box on its label
    expect(page.get_by_label("59 — Nord")).not_to_be_checked()
    page.get_by_role("button", name="Charger la liste").click()
    page.wait_for_load_state("load")
    expect_success(page, "chargée : 2 QPV, 1 communes")
    page.get_by_role("searchbox", name=re.compile("^Rechercher un QPV")).fill("etouvie")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_load_state("load")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("QN08001M")
    expect(page.get_by_role("status")).to_contain_text("1 QPV sur 2 pour « etouvie »")
    assert serious_violations(page) == []


def test_an_account_is_deactivated_after_confirming_then_reactivated(page, live_server, seed):
    officer = seed("officer")
    login(page, live_server, ADMIN["email"], ADMIN["password"])
    admin_page(page, live_server, "/admin/comptes")
    page.get_by_role("link", name=f"{officer['name']} : modifier le compte").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Compte de {officer['name']}")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Désactiver le compte").click()
    dialog = page.get_by_role("dialog", name=f"Désactiver le compte de {officer['name']} ?")
    opened(page, dialog)
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Désactiver le compte").click()
    page.wait_for_load_state("load")
    expect_success(page, "désactivé : ses sessions sont closes")
    expect(page.locator("main .fr-badge").first).to_have_text("Désactivé")
    page.get_by_role("button", name="Réactiver le compte").click()
    page.wait_for_load_state("load")
    expect_success(page, "réactivé")
    # The role, changed from the same page.
    page.get_by_label(re.compile("^Rôle")).select_option(label="Membre du comité de sélection")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state("load")
    expect_success(page, "enregistré")
    expect(page.get_by_label(re.compile("^Rôle"))).to_have_value("committee")


def test_the_admin_lists_and_a_call_form_in_error_are_accessible(page, live_server):
    login(page, live_server, ADMIN["email"], ADMIN["password"])
    assert "Compléments reçus à examiner" in page.locator("main").inner_text()  # the admin's home
    assert serious_violations(page) == []
    for path, heading in (("/admin/appels", "Appels à projets"), ("/admin/comptes", "Comptes"),
                          ("/admin/qpv", "Listes de référence des QPV")):
        admin_page(page, live_server, path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert serious_violations(page) == [], path
    page.goto(f"{live_server.url}/admin/appels")
    page.get_by_role("link", name="Modifier l'appel AAP-QPV-2023").click()
    page.wait_for_load_state("load")
    page.locator("#required_attachments-table tbody tr").first.get_by_label(re.compile("^Code, ligne 1$")).fill("Statuts")
    page.get_by_label(re.compile(r"^Taux d'intervention FSE\+")).fill("0,60")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state("load")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("60 pour 60 % (et non 0,60)")
    expect(summary).to_contain_text("Minuscules sans accent")
    expect(page.get_by_label(re.compile(r"^Taux d'intervention FSE\+"))).to_have_value("0,60")  # kept as typed
    assert serious_violations(page) == []
