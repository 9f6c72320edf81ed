from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Qpv, QpvCommune, QpvList, User
from ..qpv_reference import ParsedQpv, QpvFileError, departement_of, geography_year
from .audit import log_action


def import_qpv_list(
    parsed: list[ParsedQpv],
    *,
    name: str,
    version_date: date,
    source: str,
    actor: User | None = None,
) -> QpvList:
    """Store a parsed list as a new reference list; the same name and version is refused."""
    existing = db.session.scalar(
        select(QpvList).where(QpvList.name == name, QpvList.version_date == version_date)
    )
    if existing is not None:
        raise QpvFileError(
            f"La liste « {name} » du {version_date:%d/%m/%Y} est déjà chargée "
            "(changez le nom ou la date de version)."
        )
    qpv_list = QpvList(
        name=name,
        version_date=version_date,
        source=source[:500],
        geography_year=geography_year([q.code for q in parsed]),
    )
    for item in parsed:
        qpv = Qpv(code=item.code, name=item.name)
        qpv.communes = [
            QpvCommune(insee=insee, name=commune or insee, departement=departement_of(insee))
            for insee, commune in sorted(item.communes.items())
        ]
        qpv_list.qpvs.append(qpv)
    db.session.add(qpv_list)
    db.session.flush()
    log_action(
        "qpv_list.import",
        qpv_list,
        actor,
        details={
            "qpv": len(parsed),
            "communes": len({i for q in parsed for i in q.communes}),
            "source": source[:500],
        },
    )
    return qpv_list
