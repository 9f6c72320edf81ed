from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .qpv import QpvList
from .types import Base, Money, Rate, UTCDateTime, utcnow

# The reference call's lists (docs/admissibility.md). Criteria marked auto are judged
# by the system and confirmed by the officer; the others are answered by hand.
DEFAULT_REQUIRED_ATTACHMENTS: list[dict[str, str]] = [
    {"code": "statuts", "label": "Statuts de la structure"},
    {"code": "rib", "label": "Relevé d'identité bancaire (RIB)"},
    {"code": "mandat", "label": "Délibération ou mandat du signataire"},
    {"code": "regularite_fiscale", "label": "Attestation de régularité fiscale"},
    {"code": "regularite_sociale", "label": "Attestation de régularité sociale (URSSAF)"},
    {"code": "fiches_poste", "label": "Fiches de poste des personnels financés"},
]

DEFAULT_ADMISSIBILITY_CRITERIA: list[dict[str, Any]] = [
    {"code": "deadline", "label": "Dossier déposé avant la date limite", "auto": True},
    {"code": "attachments", "label": "Toutes les pièces obligatoires sont jointes", "auto": True},
    {"code": "single_applicant", "label": "Structure porteuse unique, pas de consortium", "auto": True},
    {"code": "structure_verified", "label": "Structure porteuse vérifiée par la DREETS (SIRET)", "auto": True},
    {"code": "territory", "label": "QPV de la liste de référence, dans une commune éligible", "auto": True},
    {"code": "public", "label": "Jeunes de 16 à 29 ans en CEJ ou y entrant", "auto": True},
    {"code": "expenses", "label": "Frais de personnel uniquement, pas d'investissement", "auto": True},
    {"code": "financing", "label": "Plan de financement équilibré, FSE+ ≤ 60 % de la base", "auto": True},
    {"code": "signatory", "label": "Signataire habilité, attestation sur l'honneur signée", "auto": False},
    {"code": "tax_social", "label": "Régularité fiscale et sociale", "auto": False},
    {"code": "not_completed", "label": "Opération non achevée à la date du dépôt", "auto": False},
]


class Call(Base):
    """An appel à projets with its calendar, envelope and financing parameters."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("fse_rate > 0 AND fse_rate <= 1", name="fse_rate_range"),
        CheckConstraint(
            "flat_rate_other_costs >= 0 AND flat_rate_other_costs <= 0.4", name="flat_rate_range"
        ),
        CheckConstraint("share_reperage >= 0 AND share_reperage <= 1", name="share_reperage_range"),
        CheckConstraint(
            "share_sortie_emploi >= 0 AND share_sortie_emploi <= 1", name="share_sortie_range"
        ),
        CheckConstraint("envelope >= 0", name="envelope_positive"),
        CheckConstraint("cej_forfait_per_youth >= 0", name="forfait_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    programme: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    envelope: Mapped[Decimal] = mapped_column(Money())
    fse_rate: Mapped[Decimal] = mapped_column(Rate())
    cej_forfait_per_youth: Mapped[Decimal] = mapped_column(Money())
    share_reperage: Mapped[Decimal] = mapped_column(Rate())
    share_sortie_emploi: Mapped[Decimal] = mapped_column(Rate())
    flat_rate_other_costs: Mapped[Decimal] = mapped_column(Rate())
    required_attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    admissibility_criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    qpv_list_id: Mapped[int | None] = mapped_column(ForeignKey("qpv_lists.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    qpv_list: Mapped[QpvList | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def finance_parameters(self) -> dict[str, Any]:
        """The call's financing parameters in the simulator's ``rules`` shape."""
        return {
            "fse_rate": format(self.fse_rate, "f"),
            "cej_forfait_per_youth": format(self.cej_forfait_per_youth, "f"),
            "strand_share": {
                "reperage": format(self.share_reperage, "f"),
                "sortie_emploi": format(self.share_sortie_emploi, "f"),
            },
            "flat_rate_other_costs": format(self.flat_rate_other_costs, "f"),
        }

    def __repr__(self) -> str:
        return f"<Call {self.code}>"
