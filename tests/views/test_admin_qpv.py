"""QPV lists loaded from the web page with the parser and checks of ``grants qpv import``, and
searched by code, name, commune or INSEE code."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from grants.models import AuditEntry, Qpv, QpvList
from grants.qpv_reference import PACKAGED_QPV_FILE

OFFICIAL = (
    "code_qp;lib_qp;insee_com;lib_com\n"
    'QN05901M;Quartier des Épinettes;"59350;59360";"Lille;Loos"\n'
    "QN08001M;Étouvie;80021;Amiens\n"
    "QN07501M;Quartier parisien;75056;Paris\n"
).encode("cp1252")


def upload(client, data: bytes, filename: str = "listeqp2024.csv", **fields: object):  # type: ignore[no-untyped-def]
    form = {"file": (io.BytesIO(data), filename), "name": "", "version_date": "",
            "departements": ["02", "59", "60", "62", "80"]} | fields
    return client.post("/admin/qpv/nouvelle", data=form, content_type="multipart/form-data",
                       csrf_from="/admin/qpv/nouvelle")


def test_an_official_list_is_loaded_from_the_page(client, login_admin, users, db):
    login_admin()
    page = client.get("/admin/qpv/nouvelle").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    # The five départements of the region are ticked by default.
    assert len(re.findall(r'<input checked id="departements-\d" name="departements" type="checkbox"', page)) == 5
    response = upload(client, OFFICIAL, name="QPV HDF — test", version_date="2024-01-01")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    qpv_list = db.session.scalar(select(QpvList).where(QpvList.name == "QPV HDF — test"))
    codes = set(db.session.scalars(select(Qpv.code).where(Qpv.qpv_list_id == qpv_list.id)))
    assert codes == {"QN05901M", "QN08001M"}  # Paris left out by the départements ticked
    assert qpv_list.geography_year == 2024 and qpv_list.source == "listeqp2024.csv"
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "qpv_list.import",
                                                       AuditEntry.object_id == qpv_list.id))
    assert audit.actor_id == users["admin"].id and audit.details["qpv"] == 2
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "chargée : 2 QPV, 3 communes" in shown and "Loos (59360)" in shown


def test_the_packaged_list_loads_with_its_default_name(client, login_admin, users, db):
    login_admin()
    response = upload(client, PACKAGED_QPV_FILE.read_bytes(), filename="qpv_hdf_2024.csv", departements=[])
    assert response.status_code == 302
    qpv_list = db.session.scalars(select(QpvList).order_by(QpvList.id.desc())).first()
    assert qpv_list.name == "QPV Hauts-de-France — géographie 2024"
    assert db.session.scalar(select(func.count(Qpv.id)).where(Qpv.qpv_list_id == qpv_list.id)) == 204


def test_a_bad_file_is_refused_next_to_the_field_and_nothing_is_stored(client, login_admin, users, db):
    login_admin()
    before = db.session.scalar(select(func.count(QpvList.id)))
    cases = {
        b"nom;commune\nA;B\n": "En-tête non reconnu",
        b"code_qp,nom_qp,insee_com\nQX1,Quartier,59350\n": "Ligne 2 : code QPV « QX1 » invalide.",
        b"code_qp,nom_qp,insee_com\nQN05901M,Quartier,5935\n": "Ligne 2 : code commune « 5935 » invalide.",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00": "En-tête non reconnu",
    }
    for data, message in cases.items():
        response = upload(client, data, name="Liste fautive")
        page = response.get_data(as_text=True)
        assert response.status_code == 422, message
        assert message in page, message
        assert '<a href="#file">' in page  # the error summary links to the file field
        assert 'value="Liste fautive"' in page  # the rest of the input is kept
    missing = client.post("/admin/qpv/nouvelle", data={"name": ""}, csrf_from="/admin/qpv/nouvelle")
    assert missing.status_code == 422 and "Choisissez le fichier de la liste." in missing.get_data(as_text=True)
    assert db.session.scalar(select(func.count(QpvList.id))) == before


def test_the_same_list_twice_is_refused(client, login_admin, users, db):
    login_admin()
    assert upload(client, OFFICIAL, name="Deux fois", version_date="2024-01-01").status_code == 302
    again = upload(client, OFFICIAL, name="Deux fois", version_date="2024-01-01")
    assert again.status_code == 422 and "est déjà chargée" in again.get_data(as_text=True)


def test_loading_a_list_is_for_admins_who_typed_their_password(client, login_as, users):
    login_as(users["officer"])
    assert client.get("/admin/qpv/nouvelle").status_code == 403
    client.post("/compte/deconnexion", csrf_from="/")
    login_as(users["admin"])
    response = client.get("/admin/qpv/nouvelle")
    assert response.status_code == 302 and "/compte/confirmation" in response.headers["Location"]


def test_a_list_is_searched_by_code_name_commune_or_insee(client, login_admin, users, make_qpv_list):
    qpv_list = make_qpv_list()
    login_admin()
    base = f"/admin/qpv/{qpv_list.id}"
    for query, found, hidden in (("amiens", "QN08001M", "QN05901M"), ("QN0590", "QN05901M", "QN08001M"),
                                 ("59350", "QN05901M", "QN08001M"), ("QUARTIER TEST lille", "QN05901M", "QN08001M")):
        page = client.get(f"{base}?q={query}").get_data(as_text=True)
        body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        assert found in body and hidden not in body, query
        assert "1 QPV sur 2" in page, query
    nothing = client.get(f"{base}?q=introuvable").get_data(as_text=True)
    assert "Aucun QPV de cette liste ne correspond à « introuvable »." in nothing


def test_the_search_ignores_accents(client, login_admin, users, db, make_qpv_list):
    qpv_list = make_qpv_list()
    qpv = db.session.scalar(select(Qpv).where(Qpv.qpv_list_id == qpv_list.id, Qpv.code == "QN08001M"))
    qpv.name = "Étouvie"
    db.session.commit()
    login_admin()
    for query in ("etouvie", "ÉTOUVIE", "Etouvie"):
        body = client.get(f"/admin/qpv/{qpv_list.id}?q={query}").get_data(as_text=True).split("<tbody>", 1)[1]
        assert "QN08001M" in body and "QN05901M" not in body.split("</tbody>", 1)[0], query
