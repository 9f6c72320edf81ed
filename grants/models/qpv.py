from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .types import Base, UTCDateTime, utcnow


class QpvList(Base):
    """One imported reference list of QPV (a geography, a version, a source)."""

    __tablename__ = "qpv_lists"
    __table_args__ = (UniqueConstraint("name", "version_date", name="uq_qpv_lists_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    geography_year: Mapped[int]
    version_date: Mapped[date]
    source: Mapped[str] = mapped_column(String(500))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    qpvs: Mapped[list[Qpv]] = relationship(
        back_populates="qpv_list", cascade="all, delete-orphan", order_by="Qpv.code"
    )

    @property
    def label(self) -> str:
        return f"{self.name} (version du {self.version_date:%d/%m/%Y})"


class Qpv(Base):
    __tablename__ = "qpvs"
    __table_args__ = (UniqueConstraint("qpv_list_id", "code", name="uq_qpvs_list_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    qpv_list_id: Mapped[int] = mapped_column(ForeignKey("qpv_lists.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))

    qpv_list: Mapped[QpvList] = relationship(back_populates="qpvs")
    communes: Mapped[list[QpvCommune]] = relationship(
        back_populates="qpv", cascade="all, delete-orphan", order_by="QpvCommune.insee"
    )

    @property
    def departements(self) -> list[str]:
        return sorted({c.departement for c in self.communes})


class QpvCommune(Base):
    """A commune a QPV lies in (a QPV may span several communes)."""

    __tablename__ = "qpv_communes"
    __table_args__ = (UniqueConstraint("qpv_id", "insee", name="uq_qpv_communes_qpv_insee"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    qpv_id: Mapped[int] = mapped_column(ForeignKey("qpvs.id", ondelete="CASCADE"))
    insee: Mapped[str] = mapped_column(String(5), index=True)
    name: Mapped[str] = mapped_column(String(150))
    departement: Mapped[str] = mapped_column(String(3))

    qpv: Mapped[Qpv] = relationship(back_populates="communes")
