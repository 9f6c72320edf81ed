"""Measurements that need a process of their own, so that its peak memory is theirs alone.

``python -m bench.child pdf …`` and ``python -m bench.child export …`` print one JSON
object on stdout. Peak memory is the process's VmHWM (peak resident set, as the kernel
counts it), reported with the resident set before the measured work started.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_mb() -> float:
    return round(_status_kb("VmRSS") / 1024, 1)


def peak_mb() -> float:
    return round(_status_kb("VmHWM") / 1024, 1)


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux ≥ 4.0: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def make_app(database_url: str, storage_dir: str) -> Any:
    from bench.app import create_bench_app

    app = create_bench_app({
        "TESTING": True, "DATABASE_URL": database_url, "GRANTS_STORAGE_DIR": storage_dir,
        "SECRET_KEY": "bench-in-process", "SERVER_NAME": None, "MAIL_SERVER": None,
    })
    logging.getLogger().setLevel(logging.WARNING)
    return app


def logged_in_client(app: Any, user_id: int) -> Any:
    """A test client whose session is that of ``user_id`` (as after the login form)."""
    from grants.extensions import db
    from grants.models import User
    from grants.security import LOGIN_AT, SEEN_AT

    with app.app_context():
        user = db.session.get(User, user_id)
        session_id = user.get_id()
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        # As start_session() leaves it: without these times the session counts as expired.
        session[LOGIN_AT] = session[SEEN_AT] = int(time.time())
    return client


# PDF ----------------------------------------------------------------------------------------


def _fiche_inputs(dossier: Any) -> dict[str, Any]:
    try:
        from grants.operations.documents import fiche_inputs
    except ImportError:
        fiche_inputs = None
    if fiche_inputs is not None:
        return fiche_inputs(dossier)
    return _local_fiche_inputs(dossier)


def _local_fiche_inputs(dossier: Any) -> dict[str, Any]:
    """The fiche's data, gathered here while the app has no gatherer of its own."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from grants.extensions import db
    from grants.models import AdmissibilityReview, Instruction, Qpv, StructureKind

    snapshot = dossier.latest_version.snapshot
    content = snapshot["content"]
    codes = (content.get("territories") or {}).get("qpv_codes") or []
    qpvs = [{"code": q.code, "name": q.name, "communes": [c.name for c in q.communes]} for q in db.session.scalars(
        select(Qpv).where(Qpv.qpv_list_id == dossier.call.qpv_list_id, Qpv.code.in_(codes))
        .options(selectinload(Qpv.communes)))]
    review = db.session.scalar(select(AdmissibilityReview).where(AdmissibilityReview.dossier_id == dossier.id))
    instruction = db.session.scalar(select(Instruction).where(Instruction.dossier_id == dossier.id))
    structure = dict(snapshot["structure"], kind_title=StructureKind(snapshot["structure"]["kind"]).title)
    return {
        "reference": dossier.reference, "call": {"code": dossier.call.code, "title": dossier.call.title},
        "structure": structure, "snapshot_content": content, "qpvs": qpvs,
        "requested_finance": snapshot.get("finance"),
        "retained_finance": instruction.finance if instruction else None,
        "admissibility": {
            "outcome_title": review.outcome.title if review.outcome else None, "decided_at": review.decided_at,
            "motive": review.motive,
            "criteria": [{"label": c["label"], "value": (review.answers.get(c["code"]) or {}).get("value"),
                          "comment": (review.answers.get(c["code"]) or {}).get("comment", "")}
                         for c in dossier.call.admissibility_criteria],
        } if review else None,
        "opinion": {"title": instruction.opinion.title, "text": instruction.opinion_text,
                    "instructed_at": instruction.instructed_at,
                    "instructed_by": instruction.instructed_by.full_name if instruction.instructed_by else ""}
        if instruction and instruction.opinion else None,
    }


def _call_with_store(function: Any, obj: Any, store: Any) -> Any:
    """``function(obj)``, passing ``store=`` when the app's signature asks for it."""
    if "store" in inspect.signature(function).parameters:
        return function(obj, store=store)
    return function(obj)


def measure_pdf(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import delete, select
    from weasyprint import CSS, HTML

    from grants import pdf as pdf_module
    from grants.documents import fiche_context, fiche_title, render_fiche
    from grants.extensions import db
    from grants.models import CommitteeSession, Dossier, utcnow
    from grants.storage import store_for

    app = make_app(args.database_url, args.storage_dir)
    result: dict[str, Any] = {"rss_start_mb": rss_mb()}
    with app.test_request_context():
        dossier = db.session.get(Dossier, args.dossier_id)
        # Raw WeasyPrint reads the same files (fonts, print.css) through the same fetcher.
        fetcher = pdf_module.StaticURLFetcher(app.static_folder)

        def fiche() -> bytes:
            context = fiche_context(**_fiche_inputs(dossier), generated_at=utcnow())
            return render_fiche(context)

        context = fiche_context(**_fiche_inputs(dossier), generated_at=utcnow())
        html = pdf_module.render_html("pdf/fiche.html", context, title=fiche_title(context["reference"]))

        def raw() -> bytes:
            # Plain WeasyPrint: the same stylesheet, parsed for this document as a <link> would be.
            stylesheet = CSS(url=fetcher.base_url + pdf_module.PRINT_STYLESHEET, url_fetcher=fetcher,
                             font_config=pdf_module.FONT_CONFIG)
            return HTML(string=html, base_url=fetcher.base_url, url_fetcher=fetcher).write_pdf(
                stylesheets=[stylesheet], font_config=pdf_module.FONT_CONFIG, pdf_variant=pdf_module.PDF_VARIANT,
                pdf_tags=True)

        fiche(), raw()  # warm-up: fonts decoded once per process, templates compiled
        fiche_times, raw_times = [], []
        order = [("fiche", fiche, fiche_times), ("raw", raw, raw_times)]
        for i in range(args.repeat):
            for name, function, times in order if i % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                data = function()
                times.append(time.perf_counter() - start)
                result[f"{name}_bytes"] = len(data)
        # What the app adds to WeasyPrint: gathering the data, the context, the Jinja template.
        overhead = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            pdf_module.render_html("pdf/fiche.html", fiche_context(**_fiche_inputs(dossier), generated_at=utcnow()),
                                   title=fiche_title(context["reference"]))
            overhead.append(time.perf_counter() - start)
        result["fiche"] = {
            "data_and_html_s": round(statistics.median(overhead), 4),
            "fiche_s": round(statistics.median(fiche_times), 3), "raw_weasyprint_s": round(statistics.median(raw_times), 3),
            "ratio": round(statistics.median(fiche_times) / statistics.median(raw_times), 2),
            "repeat": args.repeat, "fiche_times_s": [round(t, 3) for t in fiche_times],
            "raw_times_s": [round(t, 3) for t in raw_times], "html_chars": len(html),
        }
        result["peak_fiche_mb"] = peak_mb()

        try:
            from grants.operations.documents import committee_pack
        except ImportError as exc:
            result["pack"] = {"available": False, "reason": f"not importable: {exc}"}
            return result
        from grants.models import FicheRender

        store = store_for(app.config["GRANTS_STORAGE_DIR"])
        session = db.session.get(CommitteeSession, args.session_id)
        size = len(session.items)
        db.session.execute(delete(FicheRender).where(FicheRender.dossier_id.in_([i.dossier_id for i in session.items])))
        db.session.flush()
        reset_peak()
        rss_before = rss_mb()
        try:
            start = time.perf_counter()
            cold = _call_with_store(committee_pack, session, store)
            cold_s = time.perf_counter() - start
            peak_cold = peak_mb()
            start = time.perf_counter()
            warm = _call_with_store(committee_pack, session, store)
            warm_s = time.perf_counter() - start
        except Exception as exc:  # noqa: BLE001  (the pack is being written: report, do not fail)
            db.session.rollback()
            result["pack"] = {"available": False, "reason": f"failed: {type(exc).__name__}: {exc}"}
            return result
        cached = db.session.scalar(select(FicheRender).where(FicheRender.dossier_id == session.items[0].dossier_id))
        result["pack"] = {
            "available": True, "dossiers": size, "cold_s": round(cold_s, 2), "warm_s": round(warm_s, 2),
            "cold_bytes": len(cold if isinstance(cold, bytes) else cold[0]),
            "warm_bytes": len(warm if isinstance(warm, bytes) else warm[0]),
            "fiches_cached": cached is not None, "rss_before_mb": rss_before, "peak_cold_mb": peak_cold,
            "peak_mb": peak_mb(),
        }
        db.session.rollback()
    return result


# Exports ------------------------------------------------------------------------------------


def measure_export(args: argparse.Namespace) -> dict[str, Any]:
    app = make_app(args.database_url, args.storage_dir)
    client = logged_in_client(app, args.user_id)
    path = f"/instruction/appels/{args.call_id}/dossiers.{args.format}"
    client.get("/bench/baseline")  # warm-up: first request, templates, connection pool
    reset_peak()
    rss_before = rss_mb()
    start = time.perf_counter()
    response = client.get(path, buffered=False)
    size, lines, first_byte = 0, 0, None
    for chunk in response.response:
        if first_byte is None:
            first_byte = time.perf_counter() - start
        size += len(chunk)
        lines += chunk.count(b"\r\n") if isinstance(chunk, bytes) else chunk.count("\r\n")
    response.close()
    seconds = time.perf_counter() - start
    return {
        "format": args.format, "status": response.status_code, "seconds": round(seconds, 2),
        "first_byte_s": round(first_byte or 0.0, 3), "bytes": size,
        "rows": lines - 1 if args.format == "csv" else None,
        "rss_before_mb": rss_before, "peak_mb": peak_mb(), "increase_mb": round(peak_mb() - rss_before, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    sub = parser.add_subparsers(dest="what", required=True)
    pdf = sub.add_parser("pdf")
    pdf.add_argument("--dossier-id", type=int, required=True)
    pdf.add_argument("--session-id", type=int, required=True)
    pdf.add_argument("--repeat", type=int, default=5)
    export = sub.add_parser("export")
    export.add_argument("--call-id", type=int, required=True)
    export.add_argument("--user-id", type=int, required=True)
    export.add_argument("--format", choices=("csv", "xlsx"), required=True)
    for command in (pdf, export):
        command.add_argument("--database-url", required=True)
        command.add_argument("--storage-dir", required=True)
    args = parser.parse_args(argv)
    result = measure_pdf(args) if args.what == "pdf" else measure_export(args)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
