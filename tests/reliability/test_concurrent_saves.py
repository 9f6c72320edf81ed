"""Fifty people of one structure save the same section of the same draft at the same moment:
exactly one save wins, the 49 others are told of the conflict with what they typed kept,
and the stored section is the winner's, whole (no lost update, no mixture).

Real commits on a database of its own, from 50 threads with their own connections. On
PostgreSQL the version counter in the UPDATE turns the losers away; on SQLite, whose
transactions begin IMMEDIATE, they wait for the winner and then see its version.
"""

from __future__ import annotations

import html
import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bench.child import logged_in_client
from grants.extensions import db as _db
from grants.models import AuditEntry, Call, Dossier, Role, Structure, StructureKind
from grants.operations import dossiers as ops
from grants.operations.accounts import create_user

SAVERS = 50
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION_RE = re.compile(r'name="version"[^>]*value="(\d+)"')
CONFLICT = "Ce dossier a été modifié entre-temps"


def build(app: Any) -> tuple[int, list[int]]:
    """An open call, a structure with five members, one draft."""
    now = datetime.now(UTC)
    with app.app_context():
        call = Call(code="AAP-SAVES", title="Appel", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
                    envelope=Decimal("1000000.00"), fse_rate=Decimal("0.60"), cej_forfait_per_youth=Decimal("1600.00"),
                    share_reperage=Decimal("0.40"), share_sortie_emploi=Decimal("0.40"),
                    flat_rate_other_costs=Decimal("0.40"))
        structure = Structure(name="Mission locale du Test", siret="90010000900019", kind=StructureKind.mission_locale)
        _db.session.add_all([call, structure])
        _db.session.flush()
        members = [create_user(email=f"membre{n}@ml-test.fr", full_name=f"Membre {n}", role=Role.applicant,
                               password="mot-de-passe-de-test-solide", structure=structure) for n in range(5)]
        dossier = ops.create_dossier(call, structure, members[0])
        _db.session.commit()
        return dossier.id, [m.id for m in members]


def test_fifty_simultaneous_saves_of_one_section(app, committed_database) -> None:  # type: ignore[no-untyped-def]
    dossier_id, members = build(app)
    path = f"/porteur/dossiers/{dossier_id}/sections/public"
    barrier = threading.Barrier(SAVERS)
    results: list[tuple[int, int, str]] = [(0, 0, "")] * SAVERS

    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            _save(i)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
            barrier.abort()

    def _save(i: int) -> None:
        client = logged_in_client(app, members[i % len(members)])
        form = client.get(path).get_data(as_text=True)
        data = {
            "csrf_token": CSRF_RE.search(form).group(1), "version": VERSION_RE.search(form).group(1),
            "reperage-nb_jeunes": 150, "reperage-nb_jeunes_qpv": 60 + i,
            "sortie_emploi-nb_jeunes": 100, "sortie_emploi-nb_jeunes_qpv": 80,
            "age_min": 16, "age_max": 25, "cej_qpv_share_current": "18,5", "cej_qpv_share_target": "30",
        }
        barrier.wait(timeout=60)
        response = client.post(path, data=data)
        results[i] = (60 + i, response.status_code, html.unescape(response.get_data(as_text=True)))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(SAVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert not errors, errors[:3]
    statuses = sorted(status for _, status, _ in results)
    assert statuses == [302] + [409] * (SAVERS - 1), statuses
    [winner] = [typed for typed, status, _ in results if status == 302]
    for typed, status, page in results:
        if status == 409:
            assert CONFLICT in page
            assert re.search(rf'name="reperage-nb_jeunes_qpv"[^>]*value="{typed}"', page), "the input is kept"

    with app.app_context():
        dossier = _db.session.get(Dossier, dossier_id)
        assert dossier.content["public"]["reperage"]["nb_jeunes_qpv"] == winner
        saves = _db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "dossier.save_section", AuditEntry.object_id == dossier_id))
        assert saves == 1
