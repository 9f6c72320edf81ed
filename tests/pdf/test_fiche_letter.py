"""Fiche de synthèse and notification letters (grants/documents.py, templates/pdf/).

The PDFs are read back with poppler-utils (pdftotext, pdfinfo) as a reader would; amounts
are compared with what ``grants.formatting.money`` prints for the finance module's
``Decimal`` figures, no-break spaces made plain.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader

from grants.documents import (
    SIGNATURE_LINES,
    fiche_context,
    letter_context,
    render_fiche,
    render_letter,
)
from grants.dossier_sections import stored_result, strand_inputs
from grants.finance import FIGURES, STRANDS, FinanceRules, compute
from grants.formatting import money
from grants.pdf import render_html, render_pdf
from tests.conftest import COMPLETE_CONTENT
from tests.pdftools import plain, poppler

REFERENCE = "AAP-QPV-DEMO-0007"
GENERATED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
CALL = {"code": "AAP-QPV-DEMO",
        "title": "Renforcement des parcours d'accompagnement des jeunes vivant dans les QPV"}
STRUCTURE = {
    "name": "Mission locale du Valenciennois", "siret": "13002526500013", "kind_title": "Mission locale",
    "commune_name": "Valenciennes", "departement": "59", "address": "1 rue de l'Exemple",
    "postal_code": "59300", "legal_rep_name": "Claire Exemple", "legal_rep_title": "Présidente",
}
QPVS = [{"code": "QN05901M", "name": "Chasse Royale",
         "communes": [{"name": "Valenciennes"}, {"name": "Anzin"}]}]
OPINION_TEXT = ("Projet cohérent avec les besoins du territoire.\n"
                "Effectifs de repérage ramenés à 100 jeunes, au vu des résultats 2025.")
ADMISSIBILITY = {
    "outcome_title": "Recevable",
    "decided_at": datetime(2026, 10, 2, 14, 0, tzinfo=UTC),
    "motive": "",
    "criteria": [
        {"label": "Dossier déposé avant la clôture", "value": "pass", "comment": "Déposé avant la clôture."},
        {"label": "Pièces obligatoires jointes", "value": "pass", "comment": ""},
        {"label": "Structure unique (pas de consortium)", "value": "pass", "comment": ""},
        {"label": "Capacité financière de la structure", "value": None, "comment": "À vérifier au bilan."},
    ],
}
OPINION = {"title": "Favorable", "text": OPINION_TEXT,
           "instructed_at": datetime(2026, 10, 20, 10, 0, tzinfo=UTC), "instructed_by": "Sophie Instructrice"}


def finance_snapshot(content: dict[str, Any]) -> dict[str, Any]:
    inputs = strand_inputs(content)
    assert inputs is not None
    return compute(FinanceRules.default(), inputs).to_snapshot()


def retained_content() -> dict[str, Any]:
    """The officer retains fewer young people on both strands."""
    content = copy.deepcopy(COMPLETE_CONTENT)
    content["public"]["reperage"]["nb_jeunes_qpv"] = 100
    content["public"]["sortie_emploi"]["nb_jeunes_qpv"] = 70
    return content


REQUESTED = finance_snapshot(COMPLETE_CONTENT)
RETAINED = finance_snapshot(retained_content())


def fiche_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "reference": REFERENCE, "call": CALL, "structure": STRUCTURE, "snapshot_content": COMPLETE_CONTENT,
        "qpvs": QPVS, "requested_finance": REQUESTED, "retained_finance": RETAINED,
        "admissibility": ADMISSIBILITY, "opinion": OPINION, "generated_at": GENERATED_AT,
    }
    return kwargs | overrides


SELECTION_MOTIVE = None
REJECTION_MOTIVE = "Le projet ne démontre pas de plus-value par rapport à l'accompagnement de droit commun."
INADMISSIBILITY_MOTIVE = "Dossier déposé après la date de clôture de l'appel à projets."
SESSION = {"date": datetime(2026, 11, 18, 9, 0, tzinfo=UTC), "chair": "M. le Secrétaire général pour les affaires régionales"}


def letter_kwargs(kind: str, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "kind": kind, "reference": REFERENCE, "call": CALL, "structure": STRUCTURE,
        "project_title": COMPLETE_CONTENT["project"]["title"],
        "amount_granted": Decimal("189720.00") if kind == "selected" else None,
        "fse_rate": Decimal("0.60"),
        "motive": {"selected": None, "rejected": REJECTION_MOTIVE, "inadmissible": INADMISSIBILITY_MOTIVE}[kind],
        "session": SESSION if kind != "inadmissible" else None,
        "decided_at": datetime(2026, 11, 18, 12, 0, tzinfo=UTC),
        "generated_at": GENERATED_AT,
        "period": {"start_date": "2027-01-01", "end_date": "2028-12-31"} if kind == "selected" else None,
        # Both strands granted their retained maximum, 60 % of their base: 60 % in total.
        "strands": [{"strand": "reperage", "granted": Decimal("113280.00"), "base": Decimal("188800.00")},
                    {"strand": "sortie_emploi", "granted": Decimal("76440.00"), "base": Decimal("127400.00")}]
        if kind == "selected" else None,
    }
    return kwargs | overrides


# The letter of issue 15: 120 000,00 € granted on a retained base of 297 320,00 € (40,4 %, not 60 %).
PARTIAL_GRANT = {
    "amount_granted": Decimal("120000.00"),
    "strands": [{"strand": "reperage", "granted": Decimal("70243.90"), "base": Decimal("176000.00")},
                {"strand": "sortie_emploi", "granted": Decimal("49756.10"), "base": Decimal("121320.00")}],
}


# Helpers -------------------------------------------------------------------------------------


def fmt(value: Decimal) -> str:
    return plain(money(value))


def layout_lines(text: str) -> set[str]:
    return {plain(line) for line in text.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def fiche(app: Flask) -> tuple[dict[str, Any], bytes]:
    context = fiche_context(**fiche_kwargs())
    with app.app_context():
        return context, render_fiche(context)


@pytest.fixture(scope="module")
def fiche_words(fiche: tuple[dict[str, Any], bytes], tmp_path_factory: pytest.TempPathFactory) -> str:
    return plain(poppler("pdftotext", fiche[1], tmp_path_factory.mktemp("fiche")))


@pytest.fixture(scope="module")
def fiche_layout(fiche: tuple[dict[str, Any], bytes], tmp_path_factory: pytest.TempPathFactory) -> str:
    return poppler("pdftotext", fiche[1], tmp_path_factory.mktemp("fiche"), "-layout")


@pytest.fixture(scope="module")
def letters(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, str]]:
    tmp = tmp_path_factory.mktemp("letters")
    rendered = {}
    with app.app_context():
        for kind in ("selected", "rejected", "inadmissible"):
            pdf = render_letter(letter_context(**letter_kwargs(kind)))
            rendered[kind] = (pdf, plain(poppler("pdftotext", pdf, tmp)))
    return rendered


# Fiche de synthèse -------------------------------------------------------------------------------


def test_fiche_prints_structure_project_and_territories(fiche_words: str) -> None:
    text = fiche_words
    assert f"Fiche de synthèse — {REFERENCE}" in text
    assert "Mission locale du Valenciennois" in text
    assert "130 025 265 00013" in text
    assert "Type Mission locale" in text
    assert "Valenciennes (59)" in text
    assert "Claire Exemple, Présidente" in text
    assert "Aller vers les jeunes des quartiers" in text
    assert CALL["title"] in text
    assert "du 01/01/2027 au 31/12/2028 (24 mois)" in text
    assert "Repérage et accompagnement." in text
    assert "Responsable du projet Karim Démo karim@ml-exemple.fr, 03 27 00 00 00" in text
    assert "Chasse Royale — Valenciennes, Anzin (QN05901M)" in text


def test_fiche_prints_public_and_targets(fiche_layout: str, fiche_words: str) -> None:
    lines = layout_lines(fiche_layout)
    assert any(line.startswith("Repérage 150 120") for line in lines), lines
    assert any(line.startswith("Sortie vers l'emploi 100 80") for line in lines), lines
    assert "Âges : 16 à 25 ans." in fiche_words
    assert "18,5 % aujourd'hui, 30 % visés" in fiche_words
    assert "Entrées en contrat d'engagement jeune (CEJ) 120" in fiche_words
    assert "Jeunes toujours en emploi 6 mois après 40" in fiche_words


def test_fiche_financing_tables_print_every_figure_requested_and_retained(fiche_layout: str) -> None:
    requested, retained = stored_result(REQUESTED), stored_result(RETAINED)
    assert requested is not None and retained is not None
    assert requested.totals["fse"] != retained.totals["fse"]
    lines = layout_lines(fiche_layout)
    for strand in (*STRANDS, None):
        before = requested.totals if strand is None else requested.strands[strand]
        after = retained.totals if strand is None else retained.strands[strand]
        for key in FIGURES:
            difference = after[key] - before[key]
            cells = [fmt(before[key]), fmt(after[key])]
            expected = " ".join(cells + [("+" if difference > 0 else "") + fmt(difference) if difference else "—"])
            # The row prints both amounts and their difference, side by side, on one line.
            assert any(line.endswith(expected) for line in lines), (strand, key, expected)
    for figure in ("76 800,00 €", "64 000,00 €", "214 560,00 €", "97 920,00 €"):
        assert figure in plain(fiche_layout)


def test_fiche_prints_the_input_rows_and_column_headers(fiche_layout: str, fiche_words: str) -> None:
    lines = layout_lines(fiche_layout)
    assert "Jeunes résidant en QPV 120 100 -20" in lines
    assert "Jeunes résidant en QPV 80 70 -10" in lines
    assert "Jeunes résidant en QPV 200 170 -30" in lines
    assert any(line.endswith("Poste Demandé Retenu Écart") for line in lines), lines
    assert "Volet repérage" in fiche_words and "Volet sortie vers l'emploi" in fiche_words
    assert "Total des deux volets" in fiche_words
    assert "taux d'intervention FSE+ 60 %" in fiche_words


def test_fiche_prints_the_explanation_lines_of_the_retained_computation(fiche_words: str) -> None:
    text = fiche_words
    assert "Détail du calcul retenu" in text
    retained = stored_result(RETAINED)
    assert retained is not None
    for line in retained.explanations:
        assert plain(line) in text, line
    assert "Base socle repérage = 1 600,00 € × 40 % × 100 jeunes = 64 000,00 €" in text
    assert "Base socle sortie vers l'emploi = 1 600,00 € × 40 % × 70 jeunes = 44 800,00 €" in text
    assert "Chargé de mission repérage : 42 000,00 € × 1 ETP × 24 mois / 12 = 84 000,00 €" in text
    assert "× 120 jeunes" not in text  # the requested computation is tabulated, not explained


def test_fiche_prints_admissibility_and_opinion(fiche_words: str) -> None:
    text = fiche_words
    assert "Résultat : Recevable, décidé le 02/10/2026." in text
    assert "Dossier déposé avant la clôture Conforme Déposé avant la clôture." in text
    assert "Capacité financière de la structure Non évalué À vérifier au bilan." in text
    assert "Avis favorable, rendu le 20/10/2026 par Sophie Instructrice." in text
    assert plain(OPINION_TEXT) in text
    assert "None" not in text


def test_fiche_document_format(fiche: tuple[dict[str, Any], bytes], fiche_layout: str, tmp_path: Path,
                               app: Flask) -> None:
    context, pdf = fiche
    title = f"Fiche de synthèse {REFERENCE}"
    xmp = poppler("pdfinfo", pdf, tmp_path, "-meta")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="U"' in xmp
    info = poppler("pdfinfo", pdf, tmp_path)
    assert re.search(rf"^Title:\s+{re.escape(title)}$", info, re.MULTILINE)
    assert re.search(r"^Page size:.*\(A4\)$", info, re.MULTILINE)
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE)
    pages = [page for page in fiche_layout.split("\f") if page.strip()]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} / {len(pages)}" in page
        assert context["document_hash"] in re.sub(r"\s+", "", page)
        assert "Document généré le 20/11/2026 à 10:30 (heure de Paris)" in page
    with app.app_context():
        html = render_html("pdf/fiche.html", context, title=title)
    assert '<html lang="fr">' in html
    assert f"<title>{title}</title>" in html


def test_fiche_before_instruction_shows_the_requested_plan_only(app: Flask, tmp_path: Path) -> None:
    context = fiche_context(**fiche_kwargs(retained_finance=None, admissibility=None, opinion=None))
    with app.app_context():
        pdf = render_fiche(context)
    layout = poppler("pdftotext", pdf, tmp_path, "-layout")
    text = plain(layout)
    requested = stored_result(REQUESTED)
    assert requested is not None
    assert "Détail du calcul du plan déposé" in text
    assert "Base socle repérage = 1 600,00 € × 40 % × 120 jeunes = 76 800,00 €" in text
    assert "Retenu" not in text.replace("FSE+ retenu", "").replace("calcul retenu", "")
    assert "Écart" not in text
    assert f"Base subventionnable {fmt(requested.totals['base'])}" in layout_lines(layout)
    assert "Recevabilité non encore examinée." in text
    assert "Instruction en cours : aucun avis rendu." in text
    assert "None" not in text


def test_fiche_shows_findings_and_unknown_qpv_codes(app: Flask, tmp_path: Path) -> None:
    content = copy.deepcopy(COMPLETE_CONTENT)
    content["resources"]["reperage"]["requested"] = "200000.00"
    content["territories"]["qpv_codes"] = ["QN05901M", "QN09999Z"]
    context = fiche_context(**fiche_kwargs(snapshot_content=content, requested_finance=finance_snapshot(content),
                                           retained_finance=None, qpvs=QPVS))
    with app.app_context():
        text = plain(poppler("pdftotext", render_fiche(context), tmp_path))
    assert "Avertissement : Repérage : le FSE+ demandé (200 000,00 €) dépasse le maximum" in text
    assert "QN09999Z (hors liste de référence)" in text


def test_fiche_document_hash_follows_the_data() -> None:
    first = fiche_context(**fiche_kwargs())
    assert re.fullmatch(r"[0-9a-f]{64}", first["document_hash"])
    assert fiche_context(**fiche_kwargs())["document_hash"] == first["document_hash"]
    changed = fiche_context(**fiche_kwargs(opinion=OPINION | {"title": "Réservé"}))
    assert changed["document_hash"] != first["document_hash"]
    later = fiche_context(**fiche_kwargs(generated_at=datetime(2026, 11, 21, tzinfo=UTC)))
    assert later["document_hash"] != first["document_hash"]


PACK = """{% extends "pdf/base.html" %}
{% block content %}{% for fiche in fiches %}<div class="page-break">{% include "pdf/_fiche_body.html" %}</div>{% endfor %}{% endblock %}
"""


def test_fiche_body_can_be_included_once_per_dossier(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    other = fiche_context(**fiche_kwargs(reference="AAP-QPV-DEMO-0008",
                                         structure=STRUCTURE | {"name": "PLIE du Douaisis"}))
    first = fiche_context(**fiche_kwargs())
    monkeypatch.setattr(app.jinja_env, "loader",
                        ChoiceLoader([DictLoader({"pdf/test_fiche_pack.html": PACK}), app.jinja_env.loader]))
    with app.app_context():
        pdf = render_pdf("pdf/test_fiche_pack.html",
                         {"fiches": [first["fiche"], other["fiche"]], "generated_at": GENERATED_AT},
                         title="Dossier du comité")
    text = plain(poppler("pdftotext", pdf, tmp_path))
    assert f"Fiche de synthèse — {REFERENCE}" in text
    assert "Fiche de synthèse — AAP-QPV-DEMO-0008" in text
    assert "PLIE du Douaisis" in text and "Mission locale du Valenciennois" in text


# Lettres de notification ------------------------------------------------------------------------


def test_selection_letter(letters: dict[str, tuple[bytes, str]]) -> None:
    text = letters["selected"][1]
    assert "Objet : notification de sélection — dossier AAP-QPV-DEMO-0007" in text
    assert "Claire Exemple Présidente Mission locale du Valenciennois 1 rue de l'Exemple 59300 Valenciennes" in text
    assert "Lille, le 20 novembre 2026" in text
    assert ("J'ai le plaisir de vous informer que le comité de sélection réuni le 18 novembre 2026 sous la "
            "présidence de M. le Secrétaire général pour les affaires régionales a retenu l'opération "
            "« Aller vers les jeunes des quartiers »") in text
    assert "d'un montant maximal de 189 720,00 € est attribuée à Mission locale du Valenciennois" in text
    rows = layout_lines(poppler("pdftotext", letters["selected"][0], None, "-layout"))  # table rows read across
    assert "Volet Base subventionnable retenue Aide FSE+ attribuée Taux d'intervention" in rows
    assert "Repérage 188 800,00 € 113 280,00 € 60 %" in rows
    assert "Sortie vers l'emploi 127 400,00 € 76 440,00 € 60 %" in rows
    assert "Total 316 200,00 € 189 720,00 € 60 %" in rows
    assert "(au plus 60 %, le taux de l'appel à projets)" in text
    assert "convention attributive de subvention" in text
    assert "doit être signée par le représentant légal" in text
    assert "Justification des dépenses." in text
    assert "« Cofinancé par l'Union européenne »" in text
    assert "du 01/01/2027 au 31/12/2028" in text
    assert "recours" not in text.lower()


def test_rejection_letter(letters: dict[str, tuple[bytes, str]]) -> None:
    text = letters["rejected"][1]
    assert "Objet : notification de rejet — dossier AAP-QPV-DEMO-0007" in text
    assert "J'ai le regret de vous informer que le comité de sélection réuni le 18 novembre 2026" in text
    assert "n'a pas retenu l'opération « Aller vers les jeunes des quartiers »" in text
    assert f"Motif de la décision {REJECTION_MOTIVE}" in text
    assert "189 720,00 €" not in text and "Aide FSE+ attribuée" not in text


def test_inadmissibility_letter(letters: dict[str, tuple[bytes, str]]) -> None:
    text = letters["inadmissible"][1]
    assert "Objet : notification d'irrecevabilité — dossier AAP-QPV-DEMO-0007" in text
    assert "a été déclaré irrecevable le 18 novembre 2026" in text
    assert f"Motif de l'irrecevabilité {INADMISSIBILITY_MOTIVE}" in text
    assert "ne peut pas être présenté au comité de sélection" in text
    assert "comité de sélection réuni" not in text


@pytest.mark.parametrize("kind", ["rejected", "inadmissible"])
def test_refusal_letters_state_the_recourse(letters: dict[str, tuple[bytes, str]], kind: str) -> None:
    text = letters[kind][1]
    assert "Voies et délais de recours" in text
    assert "dans un délai de deux mois à compter de sa notification" in text
    assert "recours gracieux auprès du Préfet de région" in text
    assert "recours contentieux devant le tribunal administratif de Lille" in text


@pytest.mark.parametrize("kind", ["selected", "rejected", "inadmissible"])
def test_letters_are_addressed_signed_and_pdfa(letters: dict[str, tuple[bytes, str]], kind: str,
                                               tmp_path: Path) -> None:
    pdf, text = letters[kind]
    assert "Claire Exemple" in text and "Mission locale du Valenciennois" in text
    assert "Madame, Monsieur," in text
    assert " ".join(SIGNATURE_LINES) in text
    assert ("Pour le Préfet de région et par délégation, la directrice régionale de l'économie, de l'emploi, "
            "du travail et des solidarités") in text
    assert "Document généré le 20/11/2026 à 10:30 (heure de Paris)" in text
    assert "None" not in text
    context = letter_context(**letter_kwargs(kind))
    assert context["document_hash"] in text.replace(" ", "")
    xmp = poppler("pdfinfo", pdf, tmp_path, "-meta")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="U"' in xmp
    info = poppler("pdfinfo", pdf, tmp_path)
    assert re.search(rf"^Title:\s+Notification {REFERENCE}$", info, re.MULTILINE)
    assert re.search(r"^Page size:.*\(A4\)$", info, re.MULTILINE)
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info  # a letter fits on one page


def test_letter_html_is_french_and_titled(app: Flask) -> None:
    with app.app_context():
        html = render_html("pdf/letter.html", letter_context(**letter_kwargs("rejected")),
                           title=f"Notification {REFERENCE}")
    assert '<html lang="fr">' in html
    assert f"<title>Notification {REFERENCE}</title>" in html


def test_letters_without_session_nor_period(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        selected = render_letter(letter_context(**letter_kwargs("selected", session=None, period=None)))
        rejected = render_letter(letter_context(**letter_kwargs("rejected", session=None)))
    text = plain(poppler("pdftotext", selected, tmp_path))
    assert ("l'opération « Aller vers les jeunes des quartiers » présentée par Mission locale du Valenciennois "
            "au titre de l'appel à projets") in text
    assert "a été retenue le 18 novembre 2026" in text
    assert "pendant la période fixée par la convention" in text
    assert "n'a pas été retenue le 18 novembre 2026" in plain(poppler("pdftotext", rejected, tmp_path))


def test_selection_letter_states_the_rate_that_results_from_the_grant(app: Flask, tmp_path: Path) -> None:
    """Issue 15, item 2: 120 000,00 € on a retained base of 297 320,00 € is 40,4 %, per strand
    39,9 % and 41,0 %; the call's 60 % is only the ceiling."""
    with app.app_context():
        pdf = render_letter(letter_context(**letter_kwargs("selected", **PARTIAL_GRANT)))
    text = plain(poppler("pdftotext", pdf, tmp_path))
    rows = layout_lines(poppler("pdftotext", pdf, tmp_path, "-layout"))
    assert "d'un montant maximal de 120 000,00 €" in text
    assert "Repérage 176 000,00 € 70 243,90 € 39,9 %" in rows
    assert "Sortie vers l'emploi 121 320,00 € 49 756,10 € 41,0 %" in rows
    assert "Total 297 320,00 € 120 000,00 € 40,4 %" in rows
    assert "au taux d'intervention de 60 %" not in text
    assert re.search(r"^Pages:\s+1$", poppler("pdfinfo", pdf, tmp_path), re.MULTILINE)  # still one page


def test_letter_context_refuses_incomplete_decisions() -> None:
    with pytest.raises(ValueError, match="amount"):
        letter_context(**letter_kwargs("selected", amount_granted=None))
    with pytest.raises(ValueError, match="per strand"):
        letter_context(**letter_kwargs("selected", strands=None))
    with pytest.raises(ValueError, match="add up"):
        letter_context(**letter_kwargs("selected", amount_granted=Decimal("189720.01")))
    for kind in ("rejected", "inadmissible"):
        with pytest.raises(ValueError, match="motive"):
            letter_context(**letter_kwargs(kind, motive="  "))
    with pytest.raises(ValueError, match="kind"):
        letter_context(**(letter_kwargs("selected") | {"kind": "deferred"}))


def test_letter_data_is_escaped(app: Flask) -> None:
    hostile = '<img src="http://example.com/x.png"> & <b>Cie</b>'
    with app.app_context():
        html = render_html("pdf/letter.html",
                           letter_context(**letter_kwargs("rejected", motive=hostile)), title="Notification")
    assert hostile not in html
    assert "&lt;img src=" in html
