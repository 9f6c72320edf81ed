"""Each role logs in through the real login page and sees its home; axe finds nothing serious."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from grants.demo import DEMO_ACCOUNTS

from .conftest import login

ACCOUNTS = {a["role"].value: a for a in DEMO_ACCOUNTS}
# The main menu of each role (templates/base.html): plain entries, and the committee
# sessions of each recent call under one button.
MENUS = {
    "applicant": ["Mes dossiers", "Profil de la structure"],
    "officer": ["Appels à projets", "Séances du comité", "Structures"],
    "committee": ["Mes séances"],
    "admin": ["Appels à projets", "Séances du comité", "Structures", "Paramétrage des appels", "Comptes", "Listes QPV"],
}
# A page each role reaches from the menu, and the heading it shows.
MENU_TARGETS = {
    "applicant": ("Profil de la structure", "Profil de la structure"),
    "admin": ("Comptes", "Comptes"),
}
HOME_MARKERS = {
    "applicant": "Appels à projets ouverts",
    "officer": "Service gestionnaire FSE+",
    "committee": "Vos séances",
    "admin": "Administration de la plateforme",
}


def serious_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_login_page_is_french_and_accessible(page, live_server):
    page.goto(f"{live_server.url}/")
    assert page.url.endswith("/compte/connexion?next=/") or "/compte/connexion" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Connexion à Parcours QPV"
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Parcours QPV — DREETS Hauts-de-France" in page.locator("header").inner_text()
    assert "Accessibilité" in page.locator("footer").inner_text()
    assert serious_violations(page) == []


@pytest.mark.parametrize("role", ["applicant", "officer", "committee", "admin"])
def test_each_role_logs_in_and_sees_its_home(page, live_server, role):
    account = ACCOUNTS[role]
    login(page, live_server, account["email"], account["password"])
    assert page.get_by_role("heading", level=1).inner_text() == f"Bonjour {account['name']}"
    assert HOME_MARKERS[role] in page.locator("main").inner_text()
    assert serious_violations(page) == []
    check_menu(page, role)
    page.get_by_role("button", name="Se déconnecter").first.click()
    page.wait_for_load_state("networkidle")
    assert "Vous êtes déconnecté(e)." in page.locator("main").inner_text()


def test_wrong_password_shows_generic_french_error(page, live_server):
    login(page, live_server, ACCOUNTS["officer"]["email"], "pas-le-bon-mot-de-passe")
    alert = page.locator(".fr-alert--error")
    assert "Adresse électronique ou mot de passe incorrect" in alert.inner_text()
    assert page.get_by_role("textbox", name="Adresse électronique").input_value() == ACCOUNTS["officer"]["email"]


def menu_entries(page):  # type: ignore[no-untyped-def]
    """The top-level entries of the main menu: links and submenu buttons, in order."""
    return page.locator("nav#navigation > ul > li > .fr-nav__link, nav#navigation > ul > li > .fr-nav__btn")


def check_menu(page, role: str) -> None:  # type: ignore[no-untyped-def]
    entries = menu_entries(page)
    assert [t.strip() for t in entries.all_inner_texts()] == MENUS[role]
    # The home page is the first entry, marked as the current page.
    assert entries.first.get_attribute("aria-current") == "page"
    assert [e.get_attribute("aria-current") for e in entries.all()[1:]] == [None] * (len(MENUS[role]) - 1)
    if "Séances du comité" in MENUS[role]:
        button = page.locator("nav#navigation .fr-nav__btn", has_text="Séances du comité")
        button.click()
        expect(button).to_have_attribute("aria-expanded", "true")  # DSFR's script opens the submenu
        submenu = page.locator(f"#{button.get_attribute('aria-controls')} a")
        expect(submenu.first).to_be_visible()
        codes = submenu.all_inner_texts()
        assert any("AAP-QPV-2023" in c for c in codes) and any("AAP-QPV-DEMO" in c for c in codes)
        submenu.filter(has_text="AAP-QPV-2023").click()
        page.wait_for_load_state("networkidle")
        assert "/comite/appels/" in page.url and page.url.endswith("/seances")
        assert button.get_attribute("aria-current") == "true"  # the section
        assert page.locator("nav#navigation a[aria-current=page]", has_text="AAP-QPV-2023").count() == 1
        assert serious_violations(page) == []
        page.go_back()
    if role in MENU_TARGETS:
        label, heading = MENU_TARGETS[role]
        menu_entries(page).filter(has_text=label).click()
        page.wait_for_load_state("networkidle")
        assert page.get_by_role("heading", level=1).inner_text() == heading
        assert menu_entries(page).filter(has_text=label).get_attribute("aria-current") == "page"
        assert menu_entries(page).first.get_attribute("aria-current") is None
        assert serious_violations(page) == []
