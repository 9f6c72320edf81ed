"""Access control: every route declares a role, and the role matrix holds."""

from __future__ import annotations

import pytest

from grants.models import Role

# The only endpoints reachable without logging in.
PUBLIC_ENDPOINTS = {
    "static",
    "main.index",  # redirects anonymous visitors to the login page
    "main.health",
    "main.accessibility",
    "main.legal",
    "auth.login",
    "auth.register",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.choose_password",
    "auth.registration_sent",
    "auth.confirm_registration_link",
    "auth.confirm_registration",
}


def test_every_endpoint_declares_a_role_or_is_explicitly_public(app):
    undeclared, public = [], set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "is_public", False) or rule.endpoint == "static":
            public.add(rule.endpoint)
        elif not getattr(view, "required_roles", None):
            undeclared.append(rule.endpoint)
    assert undeclared == [], f"routes without a role requirement: {undeclared}"
    assert public == PUBLIC_ENDPOINTS


ADMIN_PAGES = ["/admin/appels", "/admin/appels/nouveau", "/admin/comptes", "/admin/comptes/nouveau", "/admin/qpv"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("applicant", 403), ("officer", 403), ("committee", 404), ("admin", 200)],
)
def test_admin_pages_matrix(client, login_as, confirm_password, users, path, who, expected):
    if who != "anonymous":
        login_as(users[who])
    if who == "admin":
        confirm_password()  # the forms of admin actions ask for the password again
    response = client.get(path)
    assert response.status_code == expected
    if expected == 302:
        assert "/compte/connexion" in response.headers["Location"]
    if expected == 403:
        assert "Accès refusé" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "marker"),
    [
        ("applicant", "Appels à projets ouverts"),
        ("officer", "Service gestionnaire FSE+"),
        ("committee", "Vos séances"),
        ("admin", "Administration de la plateforme"),
    ],
)
def test_home_page_per_role(client, login_as, users, make_call, who, marker):
    make_call(title="Renforcement des parcours QPV")
    login_as(users[who])
    page = client.get("/").get_data(as_text=True)
    assert marker in page
    assert "Parcours QPV — DREETS Hauts-de-France" in page
    assert "Accessibilité" in page


def test_anonymous_home_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/compte/connexion")


def test_french_404_page(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page non trouvée" in response.get_data(as_text=True)


def test_security_headers_and_nonce(client):
    response = client.get("/compte/connexion")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_post_without_csrf_token_is_refused_in_french(client, users):
    response = client.post(
        "/compte/connexion", data={"email": users["admin"].email, "password": "x"}, csrf=False
    )
    assert response.status_code == 400
    assert "jeton de sécurité" in response.get_data(as_text=True)


def test_applicant_is_linked_to_structure(users):
    assert users["applicant"].structure is not None
    assert users["officer"].structure is None
    assert users["admin"].role is Role.admin
