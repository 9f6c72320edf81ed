"""The committee's documents, from the database to stored PDFs (docs/documents.md).

- The *fiche de synthèse* of a dossier is rendered when asked for and kept
  (:class:`~grants.models.FicheRender`) with the fingerprint of the data it shows: it is
  rendered again only when that data changes (new version, instruction, admissibility…).
- The *dossier du comité* is a front part rendered for the session (cover, agenda with the
  envelope, table of contents) followed by the stored fiches, joined with qpdf (pikepdf), with one
  PDF bookmark per fiche: once the fiches are rendered, building it costs one small
  rendering and a merge. Every page is then stamped, in the bottom margin the documents
  leave free, with the pack's identity and its page number in the pack ("page 7 / 23", the
  numbers of the table of contents); a fiche keeps its own footer ("Page 1 / 4" of the
  fiche, its own hash). The fiche of a dossier is rendered as soon as it is put on an
  agenda (:func:`grants.operations.committee.add_to_agenda`).
- The *procès-verbal* and the *lettres de notification* are final: rendered once, at the
  closing of the session (or when an inadmissibility is declared), stored with their
  SHA-256 and served from storage afterwards.

Rendering needs an application context (templates, static files).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import storage as storage_module
from ..documents import fiche_context, letter_context, render_fiche, render_letter
from ..extensions import db
from ..finance import STRANDS
from ..models import (
    AdmissibilityOutcome,
    AdmissibilityReview,
    AgendaItem,
    CommitteeSession,
    Decision,
    Dossier,
    FicheRender,
    Instruction,
    Qpv,
    SessionStatus,
    StructureKind,
    utcnow,
)
from ..pdf import document_fingerprint, render_pdf
from .committee import Envelope, envelope, retained_plan

__all__ = [
    "DocumentUnavailable",
    "committee_pack",
    "convocation_agenda",
    "fiche_inputs",
    "fiche_pdf",
    "issue_inadmissibility_letter",
    "issue_letters",
    "issue_minutes",
    "letter_inputs",
    "minutes_context",
    "minutes_filename",
    "minutes_title",
    "notification_letter",
    "pack_filename",
    "pack_title",
]


class DocumentUnavailable(LookupError):
    """The document does not exist (yet) for this object, with the reason in French."""


def pack_title(session: CommitteeSession) -> str:
    return f"Dossier du comité de sélection — {session.call.code} — {session.label}"


def minutes_title(session: CommitteeSession) -> str:
    return f"Procès-verbal du comité de sélection — {session.call.code} — {session.label}"


def pack_filename(session: CommitteeSession) -> str:
    return f"dossier-comite-{session.call.code}-seance-{session.number}.pdf"


def minutes_filename(session: CommitteeSession) -> str:
    return f"proces-verbal-{session.call.code}-seance-{session.number}.pdf"


def _structure(snapshot: dict[str, Any]) -> dict[str, Any]:
    structure = dict(snapshot.get("structure") or {})
    try:
        structure["kind_title"] = StructureKind(structure.get("kind")).title
    except ValueError:
        structure["kind_title"] = ""
    return structure


# --- fiche de synthèse ------------------------------------------------------------------------


def fiche_inputs(dossier: Dossier) -> dict[str, Any]:
    """The plain data of a dossier's fiche (the keyword arguments of
    :func:`grants.documents.fiche_context`, ``generated_at`` apart), as submitted (latest
    version) and as instructed."""
    version = dossier.latest_version
    if version is None:
        raise DocumentUnavailable("Ce dossier n'a pas encore été déposé : il n'a pas de fiche de synthèse.")
    snapshot = version.snapshot
    content = snapshot.get("content") or {}
    call = dossier.call
    codes = list((content.get("territories") or {}).get("qpv_codes") or [])
    qpvs = []
    if codes and call.qpv_list_id is not None:
        rows = db.session.scalars(
            select(Qpv).where(Qpv.qpv_list_id == call.qpv_list_id, Qpv.code.in_(codes))
            .options(selectinload(Qpv.communes)).order_by(Qpv.code)
        )
        qpvs = [{"code": q.code, "name": q.name, "communes": [c.name for c in q.communes]} for q in rows]
    review = db.session.scalar(select(AdmissibilityReview).where(AdmissibilityReview.dossier_id == dossier.id))
    admissibility = None
    if review is not None:
        admissibility = {
            "outcome_title": review.outcome.title if review.outcome else None,
            "decided_at": review.decided_at,
            "motive": review.motive,
            "criteria": [
                {
                    "label": criterion["label"],
                    "value": (review.answers.get(criterion["code"]) or {}).get("value"),
                    "comment": (review.answers.get(criterion["code"]) or {}).get("comment", ""),
                }
                for criterion in call.admissibility_criteria
            ],
        }
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
    opinion = None
    if instruction is not None and instruction.opinion is not None:
        opinion = {
            "title": instruction.opinion.title,
            "text": instruction.opinion_text,
            "instructed_at": instruction.instructed_at,
            "instructed_by": instruction.instructed_by.full_name if instruction.instructed_by else "",
        }
    return {
        "reference": dossier.reference or "",
        "call": {"code": call.code, "title": call.title},
        "structure": _structure(snapshot),
        "snapshot_content": content,
        "qpvs": qpvs,
        "requested_finance": snapshot.get("finance"),
        "retained_finance": instruction.finance if instruction is not None else None,
        "admissibility": admissibility,
        "opinion": opinion,
    }


def _page_count(data: bytes) -> int:
    import pikepdf

    with pikepdf.open(BytesIO(data)) as pdf:
        return len(pdf.pages)


def fiche_pdf(
    dossier: Dossier, *, store: storage_module.FileStore, now: datetime | None = None,
) -> tuple[bytes, FicheRender]:
    """The dossier's fiche: the stored rendering when its data has not changed since,
    a new rendering (stored, replacing the previous one) otherwise."""
    context = fiche_context(**fiche_inputs(dossier), generated_at=now or utcnow())
    cached = db.session.scalar(select(FicheRender).where(FicheRender.dossier_id == dossier.id))
    if cached is not None and cached.source_hash == context["source_hash"]:
        try:
            data = store.read(cached.file)
        except FileNotFoundError:
            data = b""
        if storage_module.sha256_hex(data) == cached.sha256:
            return data, cached
    data = render_fiche(context)
    stored = store.save(data)
    if cached is None:
        cached = FicheRender(dossier_id=dossier.id)
        db.session.add(cached)
    else:
        store.delete(cached.file)
    cached.source_hash = context["source_hash"]
    cached.file = stored.name
    cached.sha256 = stored.sha256
    cached.pages = _page_count(data)
    cached.rendered_at = context["generated_at"]
    db.session.flush()
    return data, cached


# --- dossier du comité --------------------------------------------------------------------------


def _items(session: CommitteeSession) -> list[AgendaItem]:
    return list(session.items)


def _instructions(items: Sequence[AgendaItem]) -> dict[int, Instruction]:
    ids = [item.dossier_id for item in items]
    if not ids:
        return {}
    return {i.dossier_id: i for i in db.session.scalars(select(Instruction).where(Instruction.dossier_id.in_(ids)))}


def _envelope_lines(figures: Envelope) -> dict[str, Decimal]:
    """The envelope around a session: the call's total, what the other sessions granted,
    what was left for this one, what it granted and what remains after it."""
    return {
        "total": figures.total, "granted_before": figures.granted_before,
        "available": figures.total - figures.granted_before, "proposed": figures.proposed,
        "remaining": figures.remaining,
    }


def _session_header(session: CommitteeSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "number": session.number,
        "status": session.status.value,
        "meets_at": session.meets_at,
        "place": session.place,
        "chair_name": session.chair_name,
        "chair_quality": session.chair_quality,
        "status_title": session.status.title,
        "held_at": session.held_at,
        "closed_at": session.closed_at,
        "members": [{"name": m.full_name, "email": m.email} for m in session.members],
        "attendance": _attendance(session),
        "call": {"code": session.call.code, "title": session.call.title},
    }


def _attendance(session: CommitteeSession) -> dict[str, Any] | None:
    """Who attended, once recorded: invited members present and excused, and the others."""
    if not session.attendance_recorded:
        return None
    return {
        "present": [m.full_name for m in session.attendees],
        "excused": [m.full_name for m in session.excused],
        "others": [line for line in session.other_attendees.splitlines() if line.strip()],
    }


def _agenda_rows(items: Sequence[AgendaItem], instructions: dict[int, Instruction]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        dossier = item.dossier
        version = dossier.latest_version
        snapshot = version.snapshot if version else {}
        instruction = instructions.get(dossier.id)
        rows.append({
            "position": item.position,
            "reference": dossier.reference or "",
            "structure": (snapshot.get("structure") or {}).get("name") or dossier.structure.name,
            "project": ((snapshot.get("content") or {}).get("project") or {}).get("title") or "",
            "requested": dossier.fse_requested_total,
            "retained": instruction.fse_retained_total if instruction else None,
            "opinion": instruction.opinion.title if instruction and instruction.opinion else None,
            "decision": item.decision.value if item.decision else None,
            "decision_title": item.decision.title if item.decision else "À décider",
            "amount_granted": item.amount_granted,
            "granted": item.granted,
            "motive": item.motive,
        })
    return rows


def convocation_agenda(session: CommitteeSession) -> list[dict[str, Any]]:
    """The agenda a convocation lists: position, reference, structure, project, retained FSE+, opinion."""
    items = _items(session)
    return _agenda_rows(items, _instructions(items))


def committee_pack(
    session: CommitteeSession, *, store: storage_module.FileStore, now: datetime | None = None,
) -> bytes:
    """The dossier du comité: cover, agenda with the envelope, table of contents, then the
    fiche of every dossier on the agenda, each with its bookmark."""
    now = now or utcnow()
    items = _items(session)
    if not items:
        raise DocumentUnavailable("L'ordre du jour est vide : il n'y a pas encore de dossier du comité.")
    fiches = [fiche_pdf(item.dossier, store=store, now=now) for item in items]
    rows = _agenda_rows(items, _instructions(items))
    figures = envelope(session)
    context: dict[str, Any] = {
        "session": _session_header(session),
        "agenda": rows,
        "envelope": _envelope_lines(figures),
        # Decisions recorded: the pack then also shows them and the envelope after them.
        "decided": any(row["decision"] for row in rows),
        "retained_total": sum((r["retained"] or Decimal("0.00") for r in rows), Decimal("0.00")),
        "requested_total": sum((r["requested"] or Decimal("0.00") for r in rows), Decimal("0.00")),
        "fiche_hashes": [render.sha256 for _data, render in fiches],
        "generated_at": now,
    }
    context["document_hash"] = document_fingerprint(context)

    def front_context(front_pages: int) -> dict[str, Any]:
        page = front_pages + 1
        toc = []
        for row, (_data, render) in zip(rows, fiches, strict=True):
            toc.append({"reference": row["reference"], "structure": row["structure"], "page": page})
            page += render.pages
        return context | {"front_pages": front_pages, "toc": toc, "total_pages": page - 1}

    # The table of contents gives each fiche's page in the pack, which depends on the
    # length of the front part itself: lay it out with a guess, again if it was wrong.
    # Cover, then the agenda (about 20 rows a page) and the contents (about 30 lines a page).
    guess = front_context(1 + math.ceil(len(rows) / 20 + len(rows) / 30 + 0.4))
    front = render_pdf(
        "pdf/pack.html", guess, title=pack_title(session),
        refit=lambda pages: None if pages == guess["front_pages"] else front_context(pages),
    )
    return _join(
        front,
        [(f"Fiche {row['reference']} — {row['structure']}", data)
         for row, (data, _render) in zip(rows, fiches, strict=True)],
        stamp=f"{pack_title(session)} — empreinte {context['document_hash'][:16]}",
    )


def _join(front: bytes, parts: list[tuple[str, bytes]], *, stamp: str) -> bytes:
    """``front`` followed by every part, each with a bookmark (qpdf copies the pages as
    they are: the stored fiches are not laid out again), every page stamped with ``stamp``
    and its number in the whole. The front's catalog stays: its PDF/A identification
    (XMP metadata, output intent), title and language are the pack's."""
    import pikepdf

    with pikepdf.open(BytesIO(front)) as pack:
        sources = []
        with pack.open_outline() as outline:
            for title, data in parts:
                source = pikepdf.open(BytesIO(data))
                sources.append(source)
                outline.root.append(pikepdf.OutlineItem(title, len(pack.pages)))
                pack.pages.extend(source.pages)
        _stamp_pages(pack, stamp)
        output = BytesIO()
        pack.save(output)
        for source in sources:
            source.close()
        return output.getvalue()


# --- page stamps ----------------------------------------------------------------------------------
#
# The stamp is written straight into each page's content with an embedded font (Marianne,
# subset to the WinAnsi characters, as PDF/A wants every font embedded): laying out a page
# per pack page with WeasyPrint to overlay it would cost about 10 ms a page.

_FONT_FILES = {"regular": "Marianne-Regular.woff2", "bold": "Marianne-Bold.woff2"}
_STAMP_SIZE = 7.0  # points
_STAMP_GREY = b"0.227 0.227 0.227"  # #3a3a3a, as the footers
_MM = 72 / 25.4


@dataclass(frozen=True)
class _StampFont:
    """A TrueType font subset to the characters of Windows-1252, with its PDF metrics."""

    base_font: str
    program: bytes
    widths: tuple[int, ...]  # character codes 32 to 255, in thousandths of an em
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    stem_v: int

    def encode(self, text: str) -> bytes:
        """``text`` in WinAnsi; a character the font lacks becomes "?"."""
        data = text.encode("cp1252", errors="replace")
        return bytes(code if code >= 32 and self.widths[code - 32] else 63 for code in data)

    def width(self, data: bytes, size: float) -> float:
        return sum(self.widths[code - 32] for code in data) * size / 1000


@functools.cache
def _stamp_font(folder: str, kind: str) -> _StampFont:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(Path(folder) / "vendor" / "dsfr" / "fonts" / _FONT_FILES[kind])
    cmap = font.getBestCmap()
    characters = {}
    for code in range(32, 256):
        try:
            character = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            continue
        if ord(character) in cmap:
            characters[code] = character
    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters.values()])
    subsetter.subset(font)
    font.flavor = None  # plain TrueType, as FontFile2 holds
    program = BytesIO()
    font.save(program)
    scale = 1000 / font["head"].unitsPerEm
    cmap = font.getBestCmap()
    widths = tuple(
        round(font["hmtx"][cmap[ord(characters[code])]][0] * scale) if code in characters else 0
        for code in range(32, 256)
    )
    head, os2 = font["head"], font["OS/2"]
    name = font["name"].getDebugName(6) or f"Marianne-{kind.title()}"
    return _StampFont(
        base_font=f"{'QPVPAK' if kind == 'regular' else 'QPVPAL'}+{name}",
        program=program.getvalue(),
        widths=widths,
        bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),  # type: ignore[arg-type]
        ascent=round(os2.sTypoAscender * scale),
        descent=round(os2.sTypoDescender * scale),
        cap_height=round(getattr(os2, "sCapHeight", 700) * scale),
        stem_v=80 if kind == "regular" else 140,
    )


def _font_object(pdf: Any, font: _StampFont) -> Any:
    """The font dictionary of ``font`` in ``pdf`` (program, widths, Unicode map)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name

    program = pikepdf.Stream(pdf, font.program)
    program.Length1 = len(font.program)
    to_unicode = ["/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
                  "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                  "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
                  "1 begincodespacerange <00> <FF> endcodespacerange"]
    mapped = [code for code in range(32, 256) if font.widths[code - 32]]
    for start in range(0, len(mapped), 100):
        chunk = mapped[start:start + 100]
        to_unicode.append(f"{len(chunk)} beginbfchar")
        to_unicode += [f"<{code:02X}> <{ord(bytes([code]).decode('cp1252')):04X}>" for code in chunk]
        to_unicode.append("endbfchar")
    to_unicode += ["endcmap CMapName currentdict /CMap defineresource pop end end"]
    descriptor = Dictionary(
        Type=Name.FontDescriptor, FontName=Name("/" + font.base_font), Flags=32,  # non-symbolic
        FontBBox=Array(list(font.bbox)), ItalicAngle=0, Ascent=font.ascent, Descent=font.descent,
        CapHeight=font.cap_height, StemV=font.stem_v, FontFile2=pdf.make_indirect(program),
    )
    return pdf.make_indirect(Dictionary(
        Type=Name.Font, Subtype=Name.TrueType, BaseFont=Name("/" + font.base_font), FirstChar=32,
        LastChar=255, Widths=Array(list(font.widths)), Encoding=Name.WinAnsiEncoding,
        FontDescriptor=pdf.make_indirect(descriptor),
        ToUnicode=pdf.make_indirect(pikepdf.Stream(pdf, "\n".join(to_unicode).encode("ascii"))),
    ))


def _stamp_pages(pdf: Any, label: str) -> None:
    """Write ``label`` and "page x / N" at the foot of every page of ``pdf``, below the
    documents' own footers (the bottom 12 mm of an A4 page carry nothing), as a pagination
    artifact for assistive technologies."""
    import pikepdf
    from pikepdf import Name

    folder = current_app.static_folder or str(Path(__file__).parents[1] / "static")
    regular, bold = _stamp_font(folder, "regular"), _stamp_font(folder, "bold")
    fonts = {Name("/QpvStampR"): _font_object(pdf, regular), Name("/QpvStampB"): _font_object(pdf, bold)}
    save_state = pdf.make_indirect(pikepdf.Stream(pdf, b"q\n"))
    total = len(pdf.pages)
    for number, page in enumerate(pdf.pages, start=1):
        for name, font in fonts.items():
            page.add_resource(font, Name.Font, name)
        left, bottom, right, _top = (float(v) for v in page.mediabox)
        margin, baseline = 18 * _MM, bottom + 8 * _MM
        counter = bold.encode(f"page {number} / {total}")
        counter_width = bold.width(counter, _STAMP_SIZE)
        room = right - left - 2 * margin - counter_width - 6 * _MM
        text, size = regular.encode(label), _STAMP_SIZE
        while regular.width(text, size) > room and len(text) > 1:  # an unusually long call code
            text = text[:-2] + regular.encode("…")
        page.contents_add(save_state, prepend=True)
        page.contents_add(b"".join([
            b"\nQ\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n",
            _STAMP_GREY, b" rg\n",
            b"BT /QpvStampR %.1f Tf %.2f %.2f Td <%s> Tj ET\n" % (size, left + margin, baseline, text.hex().encode()),
            b"BT /QpvStampB %.1f Tf %.2f %.2f Td <%s> Tj ET\n" % (
                _STAMP_SIZE, right - margin - counter_width, baseline, counter.hex().encode()),
            b"EMC\n",
        ]))


# --- procès-verbal ----------------------------------------------------------------------------------


def minutes_context(session: CommitteeSession, *, now: datetime) -> dict[str, Any]:
    items = _items(session)
    rows = _agenda_rows(items, _instructions(items))
    figures = envelope(session)
    counts = {d.value: sum(1 for r in rows if r["decision"] == d.value) for d in Decision}
    context: dict[str, Any] = {
        "session": _session_header(session),
        "agenda": rows,
        "counts": counts,
        "granted_total": figures.proposed,
        "granted_by_strand": {
            strand: sum(((row["granted"] or {}).get(strand, Decimal("0.00")) for row in rows), Decimal("0.00"))
            for strand in STRANDS
        },
        "requested_total": sum((r["requested"] or Decimal("0.00") for r in rows), Decimal("0.00")),
        "envelope": _envelope_lines(figures),
        "consumed_share": (
            ((figures.granted_before + figures.proposed) / figures.total).quantize(Decimal("0.0001"))
            if figures.total else None
        ),
        "generated_at": now,
    }
    context["document_hash"] = document_fingerprint(context)
    return context


def issue_minutes(session: CommitteeSession, *, store: storage_module.FileStore, now: datetime) -> bytes:
    """Render and store the procès-verbal of a session being closed (once)."""
    if session.minutes_file is not None:
        raise DocumentUnavailable("Le procès-verbal de cette séance est déjà établi.")
    data = render_pdf("pdf/minutes.html", minutes_context(session, now=now), title=minutes_title(session))
    return _keep(data, session, "minutes", store)


def _keep(data: bytes, owner: Any, field: str, store: storage_module.FileStore) -> bytes:
    """Store a final document and record it on its owner (``<field>_file``, ``<field>_sha256``)."""
    stored = store.save(data)
    setattr(owner, f"{field}_file", stored.name)
    setattr(owner, f"{field}_sha256", stored.sha256)
    return data


# --- lettres de notification -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedLetter:
    dossier: Dossier
    kind: str
    data: bytes
    #: The date of the session that decided (the letter's own date is the closing's).
    session_date: datetime | None = None


def _period(content: dict[str, Any]) -> dict[str, Any]:
    project = content.get("project") or {}
    return {"start_date": project.get("start_date"), "end_date": project.get("end_date")}


def _grant_strands(item: AgendaItem) -> list[dict[str, Any]] | None:
    """Per strand, the FSE+ granted and the retained base subventionnable it rests on."""
    if item.granted is None:
        return None
    plan = retained_plan(item.dossier)
    return [{"strand": strand, "granted": item.granted[strand], "base": plan.base[strand]} for strand in STRANDS]


def letter_inputs(dossier: Dossier, *, kind: str, item: AgendaItem | None = None,
                  motive: str | None = None, decided_at: datetime | None = None) -> dict[str, Any]:
    """The keyword arguments of :func:`grants.documents.letter_context` for a dossier's
    selection or rejection (``item``, its agenda item in a session: the decision is dated by
    the session) or inadmissibility (``decided_at``, when it was declared)."""
    version = dossier.latest_version
    snapshot = version.snapshot if version else {}
    content = snapshot.get("content") or {}
    session = item.session if item is not None else None
    return {
        "kind": kind,
        "reference": dossier.reference or "",
        "call": {"code": dossier.call.code, "title": dossier.call.title},
        "structure": _structure(snapshot),
        "project_title": (content.get("project") or {}).get("title"),
        "amount_granted": item.amount_granted if item is not None else None,
        "strands": _grant_strands(item) if item is not None else None,
        "fse_rate": dossier.call.fse_rate,
        "motive": item.motive if item is not None else motive,
        "session": {"date": session.meets_at, "chair": f"{session.chair_name}, {session.chair_quality}".strip(", ")}
        if session is not None else None,
        "decided_at": session.meets_at if session is not None else decided_at,
        "period": _period(content),
    }


def issue_letters(
    session: CommitteeSession, *, store: storage_module.FileStore, now: datetime,
) -> list[IssuedLetter]:
    """Render and store the letter of every selection and rejection of a session being
    closed. An adjournment has no letter: the dossier goes back to a later session."""
    letters = []
    for item in _items(session):
        if item.decision not in (Decision.selected, Decision.rejected) or item.letter_file is not None:
            continue
        kind = item.decision.value
        data = render_letter(letter_context(**letter_inputs(item.dossier, kind=kind, item=item), generated_at=now))
        letters.append(IssuedLetter(item.dossier, kind, _keep(data, item, "letter", store), session.meets_at))
    return letters


def issue_inadmissibility_letter(
    review: AdmissibilityReview, *, store: storage_module.FileStore, now: datetime,
) -> bytes:
    """Render and store the notification of an inadmissibility just declared."""
    if review.outcome is not AdmissibilityOutcome.inadmissible:
        raise DocumentUnavailable("Ce dossier n'a pas été déclaré irrecevable.")
    data = render_letter(letter_context(
        **letter_inputs(review.dossier, kind="inadmissible", motive=review.motive, decided_at=review.decided_at),
        generated_at=now,
    ))
    return _keep(data, review, "letter", store)


@dataclass(frozen=True)
class StoredLetter:
    """An issued notification: its stored file and what it notifies."""

    file: str
    sha256: str
    kind: str  # selected | rejected | inadmissible
    amount: Decimal | None
    motive: str
    #: The date of the decision: the session's (a committee decides on the day it meets),
    #: or the day the inadmissibility was declared.
    decided_at: datetime | None
    #: For a selection, the FSE+ granted per strand.
    granted: dict[str, Decimal] | None = None


def notification_letter(dossier: Dossier) -> StoredLetter | None:
    """The letter notifying the dossier's current decision, once it is issued: the
    inadmissibility, or the selection or rejection of a closed session."""
    if dossier.state.value == "inadmissible":
        review = db.session.scalar(select(AdmissibilityReview).where(AdmissibilityReview.dossier_id == dossier.id))
        if review is None or not review.letter_file:
            return None
        return StoredLetter(review.letter_file, review.letter_sha256 or "", "inadmissible", None, review.motive,
                            review.decided_at)
    if dossier.state.value not in ("selected", "rejected"):
        return None
    item = db.session.scalar(
        select(AgendaItem).join(CommitteeSession).where(
            AgendaItem.dossier_id == dossier.id, AgendaItem.letter_file.is_not(None),
            CommitteeSession.status == SessionStatus.closed,
        ).order_by(AgendaItem.decided_at.desc(), AgendaItem.id.desc()).limit(1)
    )
    if item is None or item.decision is None or item.decision.value != dossier.state.value:
        return None
    return StoredLetter(item.letter_file or "", item.letter_sha256 or "", item.decision.value,
                        item.amount_granted, item.motive, item.session.meets_at, item.granted)
