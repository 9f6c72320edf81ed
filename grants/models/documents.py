"""Rendered documents kept for reuse: the fiche de synthèse of each dossier.

Final documents (receipts, letters, minutes) are stored once on the row they belong to.
A fiche is not final: it follows its dossier. Its PDF is kept with the fingerprint of the
data it was rendered from, and rendered again only when that fingerprint changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .types import Base, UTCDateTime, utcnow


class FicheRender(Base):
    __tablename__ = "fiche_renders"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), unique=True)
    source_hash: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
