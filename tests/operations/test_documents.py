"""The committee's documents built from the database: fiches (cached), the pack, the
procès-verbal and the letters issued at closing. PDFs are read back with poppler."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

import pytest
import pikepdf
from sqlalchemy import select

from grants.formatting import money
from grants.models import (
    CommitteeSession,
    Decision,
    Dossier,
    FicheRender,
    Instruction,
)
from grants.operations import committee as ops
from grants.operations import documents
from tests.operations.test_committee import instructed, officer_of, session_with  # noqa: F401  (fixtures)
from tests.pdf.pdfa import assert_pdfa_3
from tests.pdftools import page_count, pdf_lines, pdf_words, plain, poppler


def fmt(value: Decimal) -> str:
    return plain(money(value))


def test_fiche_prints_the_dossier_figures_and_is_rendered_once(app, db, users, instructed, store):  # noqa: F811
    dossier = instructed()
    with app.test_request_context():
        dossier = db.session.get(Dossier, dossier.id)
        data, render = documents.fiche_pdf(dossier, store=store)
        db.session.commit()
        instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
        words = pdf_words(data)
        assert f"Fiche de synthèse — {dossier.reference}" in words
        assert fmt(dossier.fse_requested_total) in words
        assert fmt(instruction.fse_retained_total) in words
        assert "Avis motivé." in words and "Recevable" in words
        assert render.pages == page_count(data) and store.read(render.file) == data

        first_file = render.file
        again, same = documents.fiche_pdf(dossier, store=store)
        assert again == data and same.file == first_file  # unchanged dossier: served from storage

        instruction.opinion_text = "Avis complété."  # any change of what the fiche shows
        db.session.commit()
        changed, rerendered = documents.fiche_pdf(dossier, store=store)
        assert "Avis complété." in pdf_words(changed)
        assert rerendered.file != first_file and not store.exists(first_file)
        assert db.session.scalar(select(FicheRender).where(FicheRender.dossier_id == dossier.id)) is rerendered


def bookmarks(pdf: bytes) -> dict[str, int]:
    """Top-level bookmarks: title → page number (1-based)."""
    with pikepdf.open(BytesIO(pdf)) as document, document.open_outline() as outline:
        pages = {page.objgen: number for number, page in enumerate(document.pages, start=1)}
        return {item.title: pages[item.destination[0].objgen] for item in outline.root}


STAMP = re.compile(r"^Dossier du comité de sélection — (?P<code>\S+) — séance n° (?P<session>\d+) — "
                   r"empreinte (?P<hash>[0-9a-f]{16}) page (?P<page>\d+) / (?P<total>\d+)$")


def stamps(pdf: bytes) -> list[re.Match[str]]:
    """The pack stamp at the foot of each page, in page order (None where missing)."""
    pages = poppler("pdftotext", pdf, None, "-layout").split("\f")[:-1]
    return [next((m for line in page.splitlines() if (m := STAMP.match(plain(line)))), None) for page in pages]


def test_pack_has_cover_agenda_toc_every_fiche_and_bookmarks(app, db, users, instructed, session_with, store):  # noqa: F811
    dossiers = [instructed(), instructed(users["other_applicant"]), instructed()]
    session_id = session_with(instructed.call, dossiers, held=False)
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        pack = documents.committee_pack(session, store=store)
        fiches = [documents.fiche_pdf(item.dossier, store=store)[1] for item in session.items]
        total = page_count(pack)
        front = total - sum(f.pages for f in fiches)
        assert front >= 2  # cover, then agenda and table of contents
        words = pdf_words(pack)
        assert "Dossier du comité" in words and "Ordre du jour" in words and "Sommaire" in words
        assert f"Disponible pour cette séance {fmt(Decimal('4000000.00'))}" in pdf_lines(pack)
        assert "l'état de l'enveloppe de l'appel avant la séance" in words
        assert "Programmé lors de cette séance" not in words  # nothing decided yet: nothing claimed

        marks = bookmarks(pack)
        page = front + 1
        for item, fiche in zip(session.items, fiches, strict=True):
            reference = item.dossier.reference
            assert marks[f"Fiche {reference} — {item.dossier.structure.name}"] == page
            # the table of contents gives the same page, and that page opens the fiche
            assert f"Fiche de synthèse {reference} — {item.dossier.structure.name} page {page}" in words, words[words.find("Sommaire"):][:400]
            assert f"Fiche de synthèse — {reference}" in pdf_words(page_of(pack, page))
            page += fiche.pages
        assert page == total + 1


def test_every_pack_page_is_stamped_with_its_number_in_the_pack(app, db, users, instructed, session_with, store):  # noqa: F811
    dossiers = [instructed(), instructed(users["other_applicant"])]
    session_id = session_with(instructed.call, dossiers, held=False)
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        pack = documents.committee_pack(session, store=store)
        total = page_count(pack)
        found = stamps(pack)
        assert len(found) == total and all(found), [m and m.group(0) for m in found]
        assert [(int(m["page"]), int(m["total"])) for m in found] == [(n, total) for n in range(1, total + 1)]
        assert {(m["code"], int(m["session"])) for m in found} == {(instructed.call.code, session.number)}
        # The stamp names the pack: its hash is the one the front part prints in full.
        [short] = {m["hash"] for m in found}
        assert re.search(rf"Empreinte du document \(SHA-256\) : {short}[0-9a-f]{{48}}", pdf_words(page_of(pack, 1)))

        # Each table of contents entry points to a page whose stamp carries that number, and
        # whose content is the fiche's first page, with the fiche's own footer kept.
        toc = re.findall(r"Fiche de synthèse (\S+) — .*? page (\d+)", pdf_words(page_of(pack, 2)))
        assert [reference for reference, _page in toc] == [d.reference for d in dossiers]
        for reference, number in toc:
            page = pdf_words(page_of(pack, int(number)))
            assert f"Fiche de synthèse — {reference}" in page
            assert f"page {number} / {total}" in page and "Page 1 / " in page
            assert int(found[int(number) - 1]["page"]) == int(number)


def test_pack_and_minutes_are_pdfa_3(app, db, users, instructed, session_with, store):  # noqa: F811
    session_id = session_with(instructed.call, [instructed(), instructed(users["other_applicant"])])
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        # The pack: a WeasyPrint front part, the stored fiches joined and stamped with pikepdf.
        assert_pdfa_3(documents.committee_pack(session, store=store), documents.pack_title(session))
        officer = officer_of(db, users)
        for item in session.items:
            ops.record_decision(item, Decision.deferred, officer)
        ops.close_session(session, officer, store=store)
        db.session.commit()
        assert_pdfa_3(store.read(session.minutes_file), documents.minutes_title(session))


def page_of(pdf: bytes, number: int) -> bytes:
    with pikepdf.open(BytesIO(pdf)) as document:
        single = pikepdf.new()
        single.pages.append(document.pages[number - 1])
        output = BytesIO()
        single.save(output)
        return output.getvalue()


def test_pack_of_an_empty_agenda_is_refused(app, db, users, instructed, session_with, store):  # noqa: F811
    with app.test_request_context():
        officer = officer_of(db, users)
        from datetime import UTC, datetime

        from grants.models import Call

        session = ops.create_session(
            db.session.get(Call, instructed.call.id), meets_at=datetime(2027, 5, 1, 8, tzinfo=UTC), place="Lille",
            chair_name="Le Préfet", chair_quality="Préfet de région", members=[], actor=officer,
        )
        with pytest.raises(documents.DocumentUnavailable, match="ordre du jour est vide"):
            documents.committee_pack(session, store=store)


def test_closing_freezes_minutes_and_issues_letters(app, db, users, instructed, session_with, store):  # noqa: F811
    dossiers = [instructed(), instructed(users["other_applicant"]), instructed()]
    session_id = session_with(instructed.call, dossiers)
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        officer = officer_of(db, users)
        selected, rejected, deferred = session.items
        ops.record_decision(selected, Decision.selected, officer, amount=Decimal("120000.55"))
        ops.record_decision(rejected, Decision.rejected, officer, motive="Public QPV insuffisant.")
        ops.record_decision(deferred, Decision.deferred, officer)
        letters = ops.close_session(session, officer, store=store)
        db.session.commit()

        assert [(letter.dossier.id, letter.kind) for letter in letters] == [
            (selected.dossier_id, "selected"), (rejected.dossier_id, "rejected")]
        assert deferred.letter_file is None
        minutes = store.read(session.minutes_file)
        assert store.verify(session.minutes_file, session.minutes_sha256)
        words = pdf_words(minutes)
        assert "Procès-verbal du comité de sélection" in words
        for item in session.items:
            assert item.dossier.reference in words
        assert "Programmé" in words and "Rejeté" in words and "Ajourné" in words
        assert "Motif : Public QPV insuffisant." in words
        lines = pdf_lines(minutes)
        assert f"Total programmé lors de la séance {fmt(Decimal('120000.55'))}" in lines
        assert f"Reste disponible après cette séance {fmt(Decimal('3879999.45'))}" in lines
        # 120 000,55 / 4 000 000 (pdftotext reads the no-break space before % as nothing)
        assert any(re.fullmatch(r"Part de l'enveloppe consommée 3 ?%", line) for line in lines)
        assert "Dossiers programmés : 1 ; rejetés : 1 ; ajournés : 1." in words

        selection = pdf_words(store.read(selected.letter_file))
        assert "notification de sélection" in selection and fmt(Decimal("120000.55")) in selection
        rejection = pdf_words(store.read(rejected.letter_file))
        assert "notification de rejet" in rejection and "Public QPV insuffisant." in rejection

        letter = documents.notification_letter(db.session.get(Dossier, selected.dossier_id))
        assert letter is not None and letter.kind == "selected" and letter.amount == Decimal("120000.55")
        assert documents.notification_letter(db.session.get(Dossier, deferred.dossier_id)) is None

        # Final: the minutes are not rendered again.
        with pytest.raises(documents.DocumentUnavailable, match="déjà établi"):
            documents.issue_minutes(session, store=store, now=session.closed_at)


def test_no_letter_before_the_session_is_closed(app, db, users, instructed, session_with, store):  # noqa: F811
    session_id = session_with(instructed.call, [instructed()])
    with app.test_request_context():
        session = db.session.get(CommitteeSession, session_id)
        ops.record_decision(session.items[0], Decision.selected, officer_of(db, users))
        db.session.commit()
        assert documents.notification_letter(session.items[0].dossier) is None


def test_fiche_is_rendered_when_put_on_the_agenda_so_the_pack_only_merges(
        app, db, users, instructed, store, monkeypatch):  # noqa: F811
    from datetime import UTC, datetime

    from grants.models import Call

    dossiers = [instructed(), instructed(users["other_applicant"])]
    with app.test_request_context():
        officer = officer_of(db, users)
        session = ops.create_session(
            db.session.get(Call, instructed.call.id), meets_at=datetime(2027, 5, 1, 8, tzinfo=UTC), place="Lille",
            chair_name="Le Préfet", chair_quality="Préfet de région", members=[], actor=officer,
        )
        for dossier in dossiers:
            ops.add_to_agenda(session, db.session.get(Dossier, dossier.id), officer, store=store)
        db.session.commit()
        renders = {r.dossier_id: r for r in db.session.scalars(select(FicheRender))}
        assert set(renders) == {d.id for d in dossiers}
        for render in renders.values():
            assert store.verify(render.file, render.sha256) and render.pages >= 1

        def no_rendering(context):  # the pack must not lay out any fiche now
            raise AssertionError("fiche rendered again")

        monkeypatch.setattr(documents, "render_fiche", no_rendering)
        pack = documents.committee_pack(session, store=store)
        assert page_count(pack) > sum(r.pages for r in renders.values())
        assert all(f"Fiche de synthèse — {d.reference}" in pdf_words(pack) for d in dossiers)
