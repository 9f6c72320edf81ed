"""The printed report and the targets of issue 7, from the results dictionary."""

from __future__ import annotations

from typing import Any

from .client import Stats

LOAD_PAGES = ("officer_queue", "officer_dossier")


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}{unit}"
    return f"{value}{unit}"


def scenario_line(stats: Stats) -> str:
    return (f"{stats.name:<16} {stats.rps:>7.1f} req/s  p50 {_fmt(stats.p50_ms):>7} ms  p95 {_fmt(stats.p95_ms):>7} ms  "
            f"p99 {_fmt(stats.p99_ms):>7} ms  {stats.requests:>6} requests  {stats.errors} errors"
            + (f"  (first: {stats.first_error[:160]})" if stats.errors else ""))


def pdf_lines(pdf: dict[str, Any]) -> str:
    fiche = pdf["fiche"]
    lines = [f"fiche de synthèse {fiche['fiche_s']} s, raw WeasyPrint of the same HTML {fiche['raw_weasyprint_s']} s: "
             f"ratio {fiche['ratio']} (median of {fiche['repeat']}; data + context + HTML alone "
             f"{fiche.get('data_and_html_s')} s); peak {pdf['peak_fiche_mb']} MB"]
    pack = pdf.get("pack") or {}
    if pack.get("available"):
        lines.append(f"committee pack of {pack['dossiers']}: cold {pack['cold_s']} s, fiches already rendered "
                     f"{pack['warm_s']} s; peak {pack['peak_mb']} MB (from {pack['rss_before_mb']} MB)")
    else:
        lines.append(f"pack: not available ({pack.get('reason', 'not measured')})")
    return "\n".join(lines)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 7 with its measured figure and whether it is met (None: not measured)."""
    rows: list[dict[str, Any]] = []

    def add(target: str, measured: str, met: bool | None) -> None:
        rows.append({"target": target, "measured": measured, "met": met})

    load = (results.get("load") or {}).get("scenarios") or {}
    clients = (results.get("load") or {}).get("clients")
    for page in LOAD_PAGES:
        s = load.get(page)
        if s:
            ratio = s["ratio_to_baseline"]
            add(f"{page}: throughput ≥ 50 % of baseline", f"{round(ratio * 100)} % ({s['rps']} vs "
                f"{results['load']['baseline_rps']} req/s)", ratio is not None and ratio >= 0.5)
            add(f"{page}: p95 ≤ 150 ms at {clients} clients", f"{s['p95_ms']} ms",
                s["p95_ms"] is not None and s["p95_ms"] <= 150)
    for page, counted in (results.get("queries") or {}).items():
        figures = ", ".join(f"{v} at {k}" for k, v in counted["by_dossiers"].items())
        add(f"{page}: SQL statements independent of dossier count", figures, counted["equal"])
    pdf = results.get("pdf")
    if pdf:
        add("fiche de synthèse ≤ 1.2 × raw WeasyPrint", f"{pdf['fiche']['ratio']} ×", pdf["fiche"]["ratio"] <= 1.2)
        pack = pdf.get("pack") or {}
        if pack.get("available"):
            add(f"committee pack of {pack['dossiers']}, fiches rendered, ≤ 2 s", f"{pack['warm_s']} s "
                f"(cold {pack['cold_s']} s)" + ("" if pack["dossiers"] >= 50 else "; target is for 50"),
                pack["warm_s"] <= 2 if pack["dossiers"] >= 50 else None)
        else:
            add("committee pack of 50, fiches rendered, ≤ 2 s", "pack: not available", None)
    exports = [e for e in results.get("exports") or [] if e["dossiers"] >= 20000]
    for e in exports:
        add(f"{e['format'].upper()} export of {e['dossiers']}: ≤ 10 s", f"{e['seconds']} s",
            e["seconds"] <= 10 and e["status"] == 200)
        add(f"{e['format'].upper()} export of {e['dossiers']}: peak ≤ 300 MB", f"{e['peak_mb']} MB "
            f"(+{e['increase_mb']} MB)", e["peak_mb"] <= 300)
    if not exports and results.get("exports"):
        add("export of 20 000: ≤ 10 s, ≤ 300 MB", "not measured at 20 000 (quick run)", None)
    rush = results.get("rush")
    if rush:
        add("rush: 0 lost", f"{rush['lost']} lost of {rush['planned_before_closing']} planned before closing "
            f"({rush['lost_sent_in_time']} sent in time, {rush['lost_sent_late']} sent late: client still waiting)",
            rush["lost"] == 0)
        wrong = rush["errors"] + rush["server_errors"] + rush["accepted_after_closing"]
        add("rush: 0 errors (5xx, wrong outcome, late acceptance)",
            f"{rush['errors']} errors, {rush['server_errors']} 5xx, {rush['accepted_after_closing']} accepted late",
            wrong == 0)
        add("rush: p95 ≤ 1 s", f"{rush['p95_ms']} ms", rush["p95_ms"] is not None and rush["p95_ms"] <= 1000)
        add("rush: database consistent", "ok" if rush["consistency"]["ok"] else
            "; ".join(rush["consistency"]["problems"][:3]), rush["consistency"]["ok"])
    return rows


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(out)


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    parts = [
        "",
        "=" * 100,
        f"Parcours QPV benchmark, {results['started_at']} — {m['nproc']} × {m['cpu']}, {m.get('memory_gb')} GB, "
        f"Python {m['python']}, PostgreSQL {m.get('postgresql')}, commit {m.get('commit')}"
        + (" (modified)" if m.get("working_tree_modified") else ""),
    ]
    data = results.get("dataset")
    if data:
        rows = data["rows"]
        parts.append(f"data set: {rows.get('dossiers')} dossiers ({data['dossiers']} + write pools "
                     f"{data['pool_drafts']}), {rows.get('attachments')} attachments, {data['structures']} structures, "
                     f"{rows.get('users')} users, {rows.get('committee_sessions')} committee sessions; "
                     f"{data['seconds']} s")
    load = results.get("load")
    if load:
        parts += ["", f"Load ({load['clients']} clients, gunicorn {load['server']['workers']} workers × "
                      f"{load['server']['threads']} threads; baseline {load['baseline_rps']} req/s)"]
        parts.append(table(
            ["scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "vs baseline", "client CPU"],
            [[name, s["rps"], _fmt(s["p50_ms"]), _fmt(s["p95_ms"]), _fmt(s["p99_ms"]), s["errors"],
              _fmt(s["ratio_to_baseline"]), _fmt(s.get("client_cpu_cores"))] for name, s in load["scenarios"].items()],
        ))
    queries = results.get("queries")
    if queries:
        sizes = list(next(iter(queries.values()))["by_dossiers"])
        parts += ["", "SQL statements per page"]
        parts.append(table(["page", *[f"{s} dossiers" for s in sizes], "equal"],
                           [[name, *q["by_dossiers"].values(), "yes" if q["equal"] else "NO"]
                            for name, q in queries.items()]))
    if results.get("pdf"):
        parts += ["", "PDF", pdf_lines(results["pdf"])]
    if results.get("exports"):
        parts += ["", "Exports (fresh process each; peak = VmHWM)"]
        parts.append(table(["dossiers", "format", "seconds", "peak MB", "increase MB", "size MB"],
                           [[e["dossiers"], e["format"], e["seconds"], e["peak_mb"], e["increase_mb"],
                             round(e["bytes"] / 1e6, 1)] for e in results["exports"]]))
    rush = results.get("rush")
    if rush:
        parts += ["", f"Deadline rush: {rush['planned_before_closing']} planned in the last {rush['window_s']:g} s "
                      f"({rush['sent_before_closing']} actually sent before the closing), "
                      f"{rush['planned_after_closing']} after, {rush['clients']} clients: recorded {rush['recorded']}, "
                      f"refused {rush['refused']}, lost {rush['lost']}, errors {rush['errors']}, 5xx "
                      f"{rush['server_errors']}; latency p50 {rush['p50_ms']} / p95 {rush['p95_ms']} / p99 "
                      f"{rush['p99_ms']} / max {rush['max_ms']} ms; consistency "
                      f"{'ok' if rush['consistency']['ok'] else 'FAILED'} ({rush['consistency']['checked']} checked)"]
    if results.get("server_log", {}).get("tracebacks"):
        parts.append(f"\nserver log: {results['server_log']['tracebacks']} tracebacks (see the JSON)")
    parts += ["", "Targets"]
    parts.append(table(["target", "measured", "met?"],
                       [[t["target"], t["measured"], {True: "yes", False: "NO", None: "—"}[t["met"]]]
                        for t in results["targets"]]))
    parts.append(f"\nphases (s): {results.get('phase_seconds')}")
    parts.append(f"load average at the end of each phase: {results.get('load_average')} "
                 f"(at start: {m.get('load_average_at_start')})")
    return "\n".join(parts)
