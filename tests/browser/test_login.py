"""Each role logs in through the real login page and sees its home; axe finds nothing serious."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from grants.demo import DEMO_ACCOUNTS

from .conftest import login

ACCOUNTS = {a["role"].value: a for a in DEMO_ACCOUNTS}
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
    page.get_by_role("button", name="Se déconnecter").first.click()
    page.wait_for_load_state("networkidle")
    assert "Vous êtes déconnecté(e)." in page.locator("main").inner_text()


def test_wrong_password_shows_generic_french_error(page, live_server):
    login(page, live_server, ACCOUNTS["officer"]["email"], "pas-le-bon-mot-de-passe")
    alert = page.locator(".fr-alert--error")
    assert "Adresse électronique ou mot de passe incorrect" in alert.inner_text()
    assert page.get_by_role("textbox", name="Adresse électronique").input_value() == ACCOUNTS["officer"]["email"]
