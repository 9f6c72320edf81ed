"""``python -m bench``: the whole benchmark, end to end, in one run (see bench/README.md)."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import report
from .client import Browser, Reply, Request, Stats, in_parallel, run_closed_loop
from .database import admin_url, bench_database, server_version
from .dataset import MAIN_CALL, OPEN_CALL, RUSH_CALL, DatasetSpec, Generator, Pool
from .pgwatch import LockWatch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "Banc-d-essai-2026!"
log = logging.getLogger("bench")


@dataclass
class Settings:
    dossiers: int = 2000
    structures: int = 100
    attachments_per_dossier: float = 10.0
    clients: int = 20
    warmup: float = 3.0
    duration: float = 20.0
    submissions_per_client: int = 12
    rush_before: int = 300
    rush_after: int = 30
    rush_clients: int = 30
    rush_window: float = 60.0
    count_sizes: tuple[int, ...] = (10, 500, 2000)
    export_sizes: tuple[int, ...] = (2000, 20000)
    pack_size: int = 50
    pdf_repeat: int = 9
    workers: int = 2
    threads: int = 4
    phases: tuple[str, ...] = ("queries", "load", "rush", "pdf", "exports")
    quick: bool = False
    keep_db: bool = False
    output: Path = RESULTS
    seed: int = 7

    @classmethod
    def from_args(cls, argv: list[str] | None) -> Settings:
        parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
        parser.add_argument("--quick", action="store_true",
                            help="a smaller run (≈ 3 min): 500 dossiers, 5 s per scenario, a 15 s rush of 60 + 10, "
                             "a pack of 10, exports of 500 and 2 000")
        parser.add_argument("--dossiers", type=int, help="dossiers of the data set (default 2000)")
        parser.add_argument("--structures", type=int, help="structures (default 100, or dossiers / 20)")
        parser.add_argument("--clients", type=int, help="concurrent clients of the load scenarios (default 20)")
        parser.add_argument("--duration", type=float, help="measured seconds per load scenario (default 20)")
        parser.add_argument("--warmup", type=float, help="warm-up seconds per load scenario (default 3)")
        parser.add_argument("--export-sizes", help="dossiers of the exported call, e.g. 2000,20000")
        parser.add_argument("--phases", help="comma-separated subset of: queries,load,rush,pdf,exports")
        parser.add_argument("--workers", type=int, help="gunicorn workers (default 2)")
        parser.add_argument("--threads", type=int, help="threads per gunicorn worker (default 4)")
        parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database")
        parser.add_argument("--output", type=Path, help="directory of the JSON results (default bench/results)")
        parser.add_argument("--seed", type=int, default=7)
        args = parser.parse_args(argv)
        settings = cls()
        if args.quick:
            settings = cls(dossiers=500, clients=20, warmup=1.0, duration=5.0, submissions_per_client=4,
                           rush_before=60, rush_after=10, rush_window=15.0, count_sizes=(10, 100, 500),
                           export_sizes=(500, 2000), pack_size=10, pdf_repeat=3, quick=True)
        if args.dossiers:
            settings.dossiers = args.dossiers
            settings.count_sizes = tuple(sorted({10, min(500, args.dossiers), args.dossiers}))
            settings.structures = max(100, args.dossiers // 20)
        for name in ("structures", "clients", "duration", "warmup", "workers", "threads", "output", "seed"):
            if getattr(args, name) is not None:
                setattr(settings, name, getattr(args, name))
        if args.export_sizes:
            settings.export_sizes = tuple(int(x) for x in args.export_sizes.split(","))
        if args.phases:
            settings.phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
        settings.keep_db = args.keep_db
        # Every write scenario works on structures of its own.
        settings.structures = max(settings.structures, 3 * settings.clients + settings.rush_clients)
        return settings


@dataclass
class Context:
    settings: Settings
    database_url: str
    storage: Path
    workdir: Path
    app: Any
    generator: Generator | None = None
    pools: dict[str, Pool] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)


@contextmanager
def phase(ctx: Context, name: str) -> Any:
    print(f"\n== {name} ==", flush=True)
    start = time.perf_counter()
    try:
        yield
    finally:
        ctx.results.setdefault("phase_seconds", {})[name] = round(time.perf_counter() - start, 1)
        # The 1-minute load average at the end of the phase: on a shared machine, other
        # work (a test suite…) distorts the absolute figures; the baseline ratios less so.
        ctx.results.setdefault("load_average", {})[name] = round(os.getloadavg()[0], 2)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        memory = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for package in ("flask", "sqlalchemy", "psycopg", "weasyprint", "gunicorn", "xlsxwriter"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # noqa: BLE001
            versions[package] = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "memory_gb": memory, "python": platform.python_version(),
        "os": platform.platform(), "packages": versions,
        "commit": (commit.stdout.strip() or None) if commit.returncode == 0 else None,
        "working_tree_modified": bool(dirty.stdout.strip()) if dirty.returncode == 0 else None,
    }


def make_in_process_app(database_url: str, storage: Path) -> Any:
    from .child import make_app

    return make_app(database_url, str(storage))


# Data set and SQL counts -----------------------------------------------------------------------


def pages(ctx: Context) -> dict[str, tuple[int, str]]:
    """The counted pages: (user id, path)."""
    gen = ctx.generator
    main = gen.calls[MAIN_CALL]["id"]
    applicant = gen.members[gen.structures[0]["id"]][0]
    return {
        "officer_queue": (gen.officers[0], f"/instruction/appels/{main}/dossiers?departement=59&sort=structure"
                                           "&order=desc&page=3"),
        "officer_dossier": (gen.officers[0], f"/instruction/dossiers/{gen.showcase_id}"),
        "applicant_home": (applicant, "/"),
        # The officer's to-do lists (grants/main/worklist.py): one statement each, capped rows.
        "officer_home": (gen.officers[0], "/"),
    }


def build_data_and_count(ctx: Context) -> None:
    from argon2 import PasswordHasher

    from grants.extensions import db

    from .child import logged_in_client
    from .queries import count_page

    settings = ctx.settings
    spec = DatasetSpec(dossiers=settings.dossiers, structures=settings.structures,
                       attachments_per_dossier=settings.attachments_per_dossier, seed=settings.seed)
    # Production cost (argon2-cffi defaults): logins under load cost what they cost in production.
    password_hash = PasswordHasher(time_cost=3, memory_cost=65536).hash(PASSWORD)
    counts: dict[str, dict[int, int]] = {}
    sql: dict[str, dict[int, list[str]]] = {}
    with phase(ctx, "data set and SQL statements per page"):
        start = time.perf_counter()
        with ctx.app.app_context():
            gen = ctx.generator = Generator(db.session, spec, password_hash=password_hash, storage_dir=ctx.storage)
            gen.add_base()
            gen.add_showcase()
            gen.finish()
            db.session.commit()
        made = 1
        sizes = [s for s in settings.count_sizes if s <= settings.dossiers] or [settings.dossiers]
        if sizes[-1] != settings.dossiers:
            sizes.append(settings.dossiers)
        for size in sizes:
            with ctx.app.app_context():
                gen.add_dossiers(size - made)
                gen.finish()
                db.session.commit()
            made = size
            if "queries" not in settings.phases:
                continue
            # Counted outside any pushed app context: each request gets its own, as in production.
            for name, (user_id, path) in pages(ctx).items():
                client = logged_in_client(ctx.app, user_id)
                counted = count_page(client, path, name)
                if counted.status != 200:
                    raise RuntimeError(f"{name} answered HTTP {counted.status} at {size} dossiers")
                counts.setdefault(name, {})[size] = counted.statements
                sql.setdefault(name, {})[size] = counted.sql
            print(f"  {size:>6} dossiers: " + ", ".join(f"{n} {c[size]}" for n, c in counts.items()), flush=True)
        with ctx.app.app_context():
            clients, rush_clients = settings.clients, settings.rush_clients
            ids = [s["id"] for s in gen.structures]
            per_rush = math.ceil((settings.rush_before + settings.rush_after) / rush_clients)
            ctx.pools = {
                "save": gen.add_pool(OPEN_CALL, ids[clients:2 * clients], 1),
                "submit": gen.add_pool(OPEN_CALL, ids[2 * clients:3 * clients], settings.submissions_per_client),
                "rush": gen.add_pool(RUSH_CALL, ids[3 * clients:3 * clients + rush_clients], per_rush),
            }
            gen.add_committee(settings.pack_size)
            gen.finish()
            db.session.commit()
        ctx.results["dataset"] = {
            "dossiers": settings.dossiers, "structures": len(gen.structures), "rows": gen.summary(),
            "pool_drafts": {name: len(pool.dossier_ids) for name, pool in ctx.pools.items()},
            "seconds": round(time.perf_counter() - start, 1),
        }
        print(f"  rows: {gen.summary()}")
        if counts:
            ctx.results["queries"] = {
                name: {"by_dossiers": {str(k): v for k, v in by_size.items()},
                       "equal": len(set(by_size.values())) == 1}
                for name, by_size in counts.items()
            }
            ctx.results["queries_sql"] = {name: {str(k): v for k, v in by_size.items()} for name, by_size in sql.items()}


# Load --------------------------------------------------------------------------------------------


def login_all(server_port: int, emails: list[str]) -> list[Browser]:
    browsers = [Browser("127.0.0.1", server_port) for _ in emails]
    # Eight logins at a time: argon2 at production cost takes ~64 MiB and a core each.
    for start in range(0, len(emails), 8):
        chunk = list(range(start, min(start + 8, len(emails))))
        in_parallel(lambda i, chunk=chunk: browsers[chunk[i]].login(emails[chunk[i]], PASSWORD), len(chunk))
    return browsers


VERSION_RE = re.compile(rb'name="version" value="(\d+)"')


def calibrate_saves(savers: list[Browser], drafts: list[int]) -> tuple[list[int], int]:
    """The version each save form carries, as a browser reads it from the form, and by how
    much one save moves it (the client then needs no GET between two saves)."""
    versions = []
    for browser, dossier_id in zip(savers, drafts, strict=True):
        page = browser.get(f"/porteur/dossiers/{dossier_id}/sections/public")
        found = VERSION_RE.search(page.body)
        if page.status != 200 or found is None:
            raise RuntimeError(f"no version on the section form of dossier {dossier_id} (HTTP {page.status})")
        versions.append(int(found.group(1)))
    form = {"version": versions[0], "reperage-nb_jeunes": 150, "reperage-nb_jeunes_qpv": 100,
            "sortie_emploi-nb_jeunes": 100, "sortie_emploi-nb_jeunes_qpv": 80, "age_min": 16, "age_max": 25,
            "cej_qpv_share_current": "18,5", "cej_qpv_share_target": "30"}
    saved = savers[0].post(f"/porteur/dossiers/{drafts[0]}/sections/public", form)
    if saved.status != 302:
        raise RuntimeError(f"calibration save refused: HTTP {saved.status}")
    found = VERSION_RE.search(savers[0].get(f"/porteur/dossiers/{drafts[0]}/sections/public").body)
    step = int(found.group(1)) - versions[0] if found else 1
    versions[0] += step
    return versions, step


def load_scenarios(ctx: Context, server: Any) -> None:
    from grants.models import SUBMITTED_STATES

    settings, gen = ctx.settings, ctx.generator
    clients = settings.clients
    rng = random.Random(settings.seed)
    main = gen.calls[MAIN_CALL]["id"]
    with phase(ctx, f"load: {clients} clients, {settings.warmup:g} s warm-up + {settings.duration:g} s per scenario"):
        officer_emails = [gen.emails[gen.officers[i % len(gen.officers)]] for i in range(clients)]
        home_emails = [gen.emails[gen.members[s["id"]][0]] for s in gen.structures[:clients]]
        save_pool, submit_pool = ctx.pools["save"], ctx.pools["submit"]
        start = time.perf_counter()
        officers = login_all(server.port, officer_emails)
        homes = login_all(server.port, home_emails)
        savers = login_all(server.port, [save_pool.users[s] for s in save_pool.drafts])
        submitters = login_all(server.port, [submit_pool.users[s] for s in submit_pool.drafts])
        print(f"  {4 * clients} logins in {time.perf_counter() - start:.1f} s", flush=True)

        queue_path = f"/instruction/appels/{main}/dossiers?departement=59&sort=structure&order=desc&page=3"
        visible = [d for (code, state), ids in gen.by_state.items() if code == MAIN_CALL and state in SUBMITTED_STATES
                   for d in ids]
        save_drafts = [ids[0] for ids in save_pool.drafts.values()]
        save_versions, save_step = calibrate_saves(savers, save_drafts)
        submit_drafts = list(submit_pool.drafts.values())

        def page_ok(reply: Reply) -> bool:
            return reply.status == 200 and len(reply.body) > 1000

        def save_request(client: int, n: int) -> Request:
            dossier_id = save_drafts[client]

            def follow(reply: Reply) -> None:
                if reply.status == 302:
                    save_versions[client] += save_step
                elif (found := VERSION_RE.search(reply.body)) is not None:
                    save_versions[client] = int(found.group(1))  # a conflict page carries the current one

            return Request(
                "POST", f"/porteur/dossiers/{dossier_id}/sections/public",
                {"version": save_versions[client], "reperage-nb_jeunes": 150,
                 "reperage-nb_jeunes_qpv": 80 + (n * 7 + client) % 40, "sortie_emploi-nb_jeunes": 100,
                 "sortie_emploi-nb_jeunes_qpv": 80, "age_min": 16, "age_max": 25,
                 "cej_qpv_share_current": "18,5", "cej_qpv_share_target": "30"},
                check=lambda r: r.status == 302 and f"/porteur/dossiers/{dossier_id}#section-public" in r.location,
                on_reply=follow,
            )

        def submit_request(client: int, n: int) -> Request | None:
            drafts = submit_drafts[client]
            if n >= len(drafts):
                return None
            dossier_id = drafts[n]
            return Request("POST", f"/porteur/dossiers/{dossier_id}/deposer", {"version": 1},
                           check=lambda r: r.status == 302 and r.location.endswith(f"/porteur/dossiers/{dossier_id}"))

        scenarios = [
            ("baseline", officers, lambda c, n: Request("GET", "/bench/baseline", check=lambda r: r.status == 200)),
            ("officer_queue", officers, lambda c, n: Request("GET", queue_path, check=page_ok)),
            ("officer_dossier", officers, lambda c, n: Request("GET", f"/instruction/dossiers/{rng.choice(visible)}",
                                                               check=page_ok)),
            ("applicant_home", homes, lambda c, n: Request("GET", "/", check=page_ok)),
            ("save_section", savers, save_request),
            ("submission", submitters, submit_request),
            ("baseline_again", officers, lambda c, n: Request("GET", "/bench/baseline",
                                                              check=lambda r: r.status == 200)),
        ]
        stats: dict[str, Stats] = {}
        for name, browsers, next_request in scenarios:
            for browser in browsers:
                browser.close()  # a fresh connection per scenario
            with LockWatch(ctx.database_url) as watch:
                stats[name] = run_closed_loop(name, browsers, next_request, warmup=settings.warmup,
                                              duration=settings.duration)
            stats[name].postgresql = watch.summary()
            print("  " + report.scenario_line(stats[name]), flush=True)
        baseline = (stats["baseline"].rps + stats["baseline_again"].rps) / 2
        for s in stats.values():
            s.ratio_to_baseline = round(s.rps / baseline, 2) if baseline else None
        ctx.results["load"] = {
            "clients": clients, "save_version_step": save_step, "warmup_s": settings.warmup, "duration_s": settings.duration,
            "server": {"workers": settings.workers, "threads": settings.threads, "worker_class": "gthread"},
            "baseline_rps": round(baseline, 1), "scenarios": {name: s.as_dict() for name, s in stats.items()},
        }
        for browser in officers + homes + savers + submitters:
            browser.close()


# Exports -----------------------------------------------------------------------------------------


def run_child(ctx: Context, *args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.child", *args, "--database-url", ctx.database_url,
               "--storage-dir", str(ctx.storage)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"bench.child {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def exports(ctx: Context) -> None:
    from sqlalchemy import func, select

    from grants.extensions import db
    from grants.models import Dossier, DossierState

    from .dataset import STATE_WEIGHTS

    gen = ctx.generator
    main = gen.calls[MAIN_CALL]["id"]
    visible_states = {s: w for s, w in STATE_WEIGHTS[MAIN_CALL].items() if s not in (DossierState.draft,
                                                                                      DossierState.withdrawn)}
    results = []
    with phase(ctx, "exports (CSV and XLSX of the officer queue, each in a fresh process)"):
        for size in ctx.settings.export_sizes:
            with ctx.app.app_context():
                visible = db.session.scalar(select(func.count(Dossier.id)).where(
                    Dossier.call_id == main, Dossier.state != DossierState.draft, Dossier.submitted_at.is_not(None)))
                if visible < size:
                    # The growth only writes what the queue and its exports read (dossiers,
                    # checklists, instructions), in batches of 5 000.
                    missing = size - visible
                    while missing > 0:
                        batch = min(missing, 5000)
                        gen.add_dossiers(batch, call_code=MAIN_CALL, states=visible_states, full=False)
                        missing -= batch
                    gen.finish()
                    db.session.commit()
                    visible = size
            for fmt in ("csv", "xlsx"):
                measured = run_child(ctx, "export", "--call-id", str(main), "--user-id", str(gen.officers[0]),
                                     "--format", fmt)
                measured["dossiers"] = visible
                results.append(measured)
                print(f"  {visible:>6} dossiers {fmt.upper():4} {measured['seconds']:6.2f} s, "
                      f"peak {measured['peak_mb']:6.1f} MB (+{measured['increase_mb']} MB), "
                      f"{measured['bytes'] / 1e6:.1f} MB, HTTP {measured['status']}", flush=True)
    ctx.results["exports"] = results


# PDF ---------------------------------------------------------------------------------------------


def pdfs(ctx: Context) -> None:
    gen = ctx.generator
    with phase(ctx, "PDF: fiche de synthèse vs raw WeasyPrint, committee pack"):
        measured = run_child(ctx, "pdf", "--dossier-id", str(gen.showcase_id), "--session-id",
                             str(gen.pack_session_id), "--repeat", str(ctx.settings.pdf_repeat))
        ctx.results["pdf"] = measured
        print("  " + report.pdf_lines(measured).replace("\n", "\n  "), flush=True)


# Main --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from .rush import deadline_rush
    from .server import Server

    settings = Settings.from_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    for noisy in ("alembic", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    started = datetime.now(UTC)
    results: dict[str, Any] = {"started_at": started.isoformat(timespec="seconds"), "machine": machine(),
                               "settings": {k: (str(v) if isinstance(v, Path) else v)
                                            for k, v in settings.__dict__.items()}}
    print(f"Parcours QPV benchmark — {results['machine']['cpu']}, {results['machine']['nproc']} CPU, "
          f"Python {results['machine']['python']}", flush=True)
    busy = os.getloadavg()[0]
    results["machine"]["load_average_at_start"] = round(busy, 2)
    if busy > 0.5 * (os.cpu_count() or 1):
        print(f"warning: the machine is busy (load average {busy:.1f}): absolute figures will be distorted",
              flush=True)
    with tempfile.TemporaryDirectory(prefix="grants-bench-") as tmp, \
            bench_database(admin_url(), keep=settings.keep_db) as database_url:
        workdir = Path(tmp)
        storage = workdir / "storage"
        storage.mkdir()
        results["machine"]["postgresql"] = server_version(database_url)
        print(f"database {database_url.rsplit('/', 1)[-1]} (PostgreSQL {results['machine']['postgresql']}), "
              f"files under {workdir}", flush=True)
        ctx = Context(settings, database_url, storage, workdir, make_in_process_app(database_url, storage),
                      results=results)
        build_data_and_count(ctx)
        if {"load", "rush"} & set(settings.phases):
            server = Server(database_url, str(storage), str(workdir / "instance"), workdir / "gunicorn.log",
                            workers=settings.workers, threads=settings.threads)
            with phase(ctx, f"gunicorn {settings.workers} workers × {settings.threads} threads"):
                server.start()
                print(f"  serving on 127.0.0.1:{server.port}", flush=True)
            try:
                if "load" in settings.phases:
                    load_scenarios(ctx, server)
                if "rush" in settings.phases:
                    with phase(ctx, "deadline rush"):
                        results["rush"] = deadline_rush(ctx, server, PASSWORD)
                results["server_peak_rss_mb"] = server.worker_peak_rss_mb()
            finally:
                server.stop()
                log_text = (workdir / "gunicorn.log").read_text(errors="replace")
                results["server_log"] = {"tracebacks": log_text.count("Traceback"),
                                         "tail": log_text[-4000:] if "Traceback" in log_text else ""}
        if "pdf" in settings.phases:
            pdfs(ctx)
        if "exports" in settings.phases:
            exports(ctx)
        from grants.extensions import db

        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["targets"] = report.targets(results)
    print(report.render(results), flush=True)
    settings.output.mkdir(parents=True, exist_ok=True)
    name = started.strftime("%Y%m%dT%H%M%SZ") + ("-quick" if settings.quick else "") + ".json"
    for path in (settings.output / name, settings.output / "latest.json"):
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"\nresults: {settings.output / name}")
    return 0
