"""Profile one page in process with pyinstrument, on a generated data set.

    .venv/bin/python -m bench.profile --page officer_queue --repeat 30
    .venv/bin/python -m bench.profile --page submission --repeat 10 --html /tmp/submit.html

Pages: baseline, officer_queue, officer_dossier, applicant_home, save_section, submission,
fiche, export_csv, export_xlsx. The data set is generated in a throw-away database (``--dossiers``, default 2000),
like the benchmark's; the requests go through the Flask test client (no gunicorn), CSRF
checks off. Prints pyinstrument's call tree and the SQL statements of one request.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

PAGES = ("baseline", "officer_queue", "officer_dossier", "applicant_home", "save_section", "submission", "fiche",
         "export_csv", "export_xlsx")


def main(argv: list[str] | None = None) -> None:
    from pyinstrument import Profiler

    from grants.extensions import db

    from .child import logged_in_client, make_app
    from .database import admin_url, bench_database
    from .dataset import MAIN_CALL, OPEN_CALL, DatasetSpec, Generator
    from .queries import count_page

    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--page", choices=PAGES, required=True)
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report there")
    parser.add_argument("--interval", type=float, default=0.0005)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="grants-profile-") as tmp, bench_database(admin_url()) as url:
        app = make_app(url, tmp)
        app.config["WTF_CSRF_ENABLED"] = False
        with app.app_context():
            gen = Generator(db.session, DatasetSpec(dossiers=args.dossiers), password_hash="x", storage_dir=tmp)
            gen.add_base()
            gen.add_showcase()
            gen.add_dossiers(args.dossiers - 1)
            structure = gen.structures[1]["id"]
            pool = gen.add_pool(OPEN_CALL, [structure], args.repeat + 2)
            gen.add_committee()
            gen.finish()
            db.session.commit()
        main_call = gen.calls[MAIN_CALL]["id"]
        officer, applicant = gen.officers[0], gen.members[gen.structures[0]["id"]][0]
        drafts = pool.drafts[structure]
        form = {"reperage-nb_jeunes": 150, "reperage-nb_jeunes_qpv": 100, "sortie_emploi-nb_jeunes": 100,
                "sortie_emploi-nb_jeunes_qpv": 80, "age_min": 16, "age_max": 25,
                "cej_qpv_share_current": "18,5", "cej_qpv_share_target": "30"}
        requests: dict[str, tuple[int, Any]] = {
            "baseline": (officer, lambda c, i: c.get("/bench/baseline")),
            "officer_queue": (officer, lambda c, i: c.get(
                f"/instruction/appels/{main_call}/dossiers?departement=59&sort=structure&order=desc&page=3")),
            "officer_dossier": (officer, lambda c, i: c.get(f"/instruction/dossiers/{gen.showcase_id}")),
            "applicant_home": (applicant, lambda c, i: c.get("/")),
            "save_section": (gen.members[structure][0], lambda c, i: c.post(
                f"/porteur/dossiers/{drafts[-1]}/sections/public", data={**form, "version": _version(app, drafts[-1])})),
            "submission": (gen.members[structure][0], lambda c, i: c.post(
                f"/porteur/dossiers/{drafts[i + 1]}/deposer", data={"version": 1})),
            "fiche": (officer, lambda c, i: c.get(f"/instruction/dossiers/{gen.showcase_id}/fiche-synthese.pdf")),
            "export_csv": (officer, lambda c, i: c.get(f"/instruction/appels/{main_call}/dossiers.csv")),
            "export_xlsx": (officer, lambda c, i: c.get(f"/instruction/appels/{main_call}/dossiers.xlsx")),
        }
        user_id, request = requests[args.page]
        client = logged_in_client(app, user_id)
        first = request(client, -1)  # warm-up (templates, fonts), uncounted
        print(f"warm-up: HTTP {first.status_code}")
        if args.page in ("officer_queue", "officer_dossier", "applicant_home", "baseline"):
            counted = count_page(client, first.request.full_path.rstrip("?"), args.page)
            print(f"{counted.statements} SQL statements:")
            for statement in counted.sql:
                print("   ", statement)
        profiler = Profiler(interval=args.interval)
        start = time.perf_counter()
        with profiler:
            for i in range(args.repeat):
                response = request(client, i)
                if response.status_code >= 400:
                    raise SystemExit(f"HTTP {response.status_code} on iteration {i}")
        elapsed = time.perf_counter() - start
        print(f"{args.repeat} × {args.page}: {elapsed / args.repeat * 1000:.1f} ms each (in process, profiled)")
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            args.html.write_text(profiler.output_html())
        db.session.remove()
        db.engine.dispose()


def _version(app: Any, dossier_id: int) -> int:
    from grants.extensions import db
    from grants.models import Dossier

    with app.app_context():
        version = db.session.get(Dossier, dossier_id).version
        db.session.remove()
    return version


if __name__ == "__main__":
    main()
