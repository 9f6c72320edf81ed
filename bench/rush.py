"""The deadline rush: submissions in the last minute before closing, and a few just after.

The rush call's closing is moved to a moment just ahead of the server's clock (same
machine, same clock). Each of the clients then submits its own complete drafts at
scheduled moments spread over the last ``window`` seconds, and one more just after the
closing. Expected: every submission sent before the closing is recorded, with its
receipt; every one sent after is refused with the app's message, the draft untouched;
no 5xx. The database is then checked: every submitted dossier has its frozen version
(snapshot whose SHA-256 is the one recorded), a unique reference without gaps, a stored
receipt whose SHA-256 matches, an audit entry; every refused one is still a draft.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from .client import percentile
from .pgwatch import LockWatch


def deadline_rush(ctx: Any, server: Any, password: str) -> dict[str, Any]:
    from sqlalchemy import update

    from grants.extensions import db
    from grants.models import Call

    from .dataset import RUSH_CALL
    from .run import login_all

    settings, gen, pool = ctx.settings, ctx.generator, ctx.pools["rush"]
    structures = list(pool.drafts)[: settings.rush_clients]
    browsers = login_all(server.port, [pool.users[s] for s in structures])
    clients = len(browsers)

    # Drafts taken in turn from each client: the first ``before`` go before the closing,
    # the next ``after`` after it.
    drafts = [(c, d) for depth in range(max(len(v) for v in pool.drafts.values()))
              for c, s in enumerate(structures) if depth < len(pool.drafts[s]) for d in [pool.drafts[s][depth]]]
    before = drafts[: settings.rush_before]
    after = drafts[settings.rush_before: settings.rush_before + settings.rush_after]
    if len(before) < settings.rush_before or len(after) < settings.rush_after:
        raise RuntimeError("not enough drafts prepared for the rush")

    lead = 3.0
    closes_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead + settings.rush_window + 1)
    close = closes_at.timestamp()
    first = close - settings.rush_window
    # Before: spread evenly over the window, the last one 0.5 s before the closing minute.
    spread = settings.rush_window - 0.5
    schedule: list[list[tuple[float, int, str]]] = [[] for _ in range(clients)]
    for i, (client, dossier_id) in enumerate(before):
        schedule[client].append((first + spread * i / max(len(before) - 1, 1), dossier_id, "before"))
    for i, (client, dossier_id) in enumerate(after):
        schedule[client].append((close + 1.0 + 3.0 * i / max(len(after) - 1, 1), dossier_id, "after"))
    with ctx.app.app_context():
        call_id = gen.calls[RUSH_CALL]["id"]
        db.session.execute(update(Call).where(Call.id == call_id).values(closes_at=closes_at,
                                                                           version=Call.version + 1))
        db.session.commit()
    print(f"  {clients} clients, {len(before)} submissions over the last {settings.rush_window:g} s before "
          f"{closes_at:%H:%M:%S} UTC, {len(after)} just after", flush=True)

    outcomes: list[dict[str, Any]] = []
    lock = threading.Lock()

    def worker(client: int) -> None:
        browser, mine = browsers[client], []
        for at, dossier_id, when in sorted(schedule[client]):
            pause = at - time.time()
            if pause > 0:
                time.sleep(pause)
            sent = time.time()
            start = time.perf_counter()
            try:
                reply = browser.post(f"/porteur/dossiers/{dossier_id}/deposer", {"version": 1})
                status, location = reply.status, reply.location
            except Exception as exc:  # noqa: BLE001
                status, location = 0, f"error: {exc}"
            latency = time.perf_counter() - start
            if status == 302 and location.endswith(f"/porteur/dossiers/{dossier_id}"):
                outcome = "recorded"
            elif status == 302 and location.endswith(f"/porteur/dossiers/{dossier_id}/deposer"):
                outcome = "refused"
            else:
                outcome = "error"
            mine.append({"dossier_id": dossier_id, "planned": when, "sent_before_closing": sent < close,
                         "late_s": round(sent - at, 3), "latency_s": latency, "status": status, "outcome": outcome,
                         "answered_before_closing": sent + latency < close})
        with lock:
            outcomes.extend(mine)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(clients)]
    with LockWatch(ctx.database_url) as watch:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for browser in browsers:
        browser.close()

    planned_before = [o for o in outcomes if o["planned"] == "before"]
    sent_before = [o for o in outcomes if o["sent_before_closing"]]
    sent_after = [o for o in outcomes if not o["sent_before_closing"]]
    latencies = sorted(o["latency_s"] for o in outcomes)
    latencies_before = sorted(o["latency_s"] for o in sent_before)
    result: dict[str, Any] = {
        "clients": clients, "window_s": settings.rush_window, "closes_at": closes_at.isoformat(),
        "planned_before_closing": len(planned_before), "planned_after_closing": len(outcomes) - len(planned_before),
        "sent_before_closing": len(sent_before), "sent_after_closing": len(sent_after),
        "recorded": sum(o["outcome"] == "recorded" for o in outcomes),
        "refused": sum(o["outcome"] == "refused" for o in outcomes),
        # Planned before the closing and not recorded: refused although sent in time, or sent
        # too late because the client was still waiting for the answer to its previous one.
        "lost": sum(o["outcome"] != "recorded" for o in planned_before),
        "lost_sent_in_time": sum(o["outcome"] != "recorded" for o in sent_before),
        "lost_sent_late": sum(o["outcome"] != "recorded" and not o["sent_before_closing"] for o in planned_before),
        "accepted_after_closing": sum(o["outcome"] == "recorded" for o in sent_after),
        "refused_cleanly_after_closing": sum(o["outcome"] == "refused" for o in sent_after),
        "errors": sum(o["outcome"] == "error" for o in outcomes),
        "server_errors": sum(o["status"] >= 500 for o in outcomes),
        "p50_ms": _ms(percentile(latencies, 0.50)), "p95_ms": _ms(percentile(latencies, 0.95)),
        "p99_ms": _ms(percentile(latencies, 0.99)), "max_ms": _ms(latencies[-1] if latencies else None),
        "p95_before_closing_ms": _ms(percentile(latencies_before, 0.95)),
        "max_send_delay_s": round(max((o["late_s"] for o in outcomes), default=0.0), 3),
        "recorded_per_s": round(sum(o["outcome"] == "recorded" for o in outcomes) / settings.rush_window, 2),
        "postgresql": watch.summary(),
    }
    with ctx.app.app_context():
        result["consistency"] = check_consistency(call_id, ctx.storage, outcomes)
    print(f"  recorded {result['recorded']}, refused {result['refused']}, lost {result['lost']} "
          f"({result['lost_sent_in_time']} sent in time, {result['lost_sent_late']} sent late), "
          f"errors {result['errors']} (5xx {result['server_errors']}), p95 {result['p95_ms']} ms; "
          f"consistency: {'ok' if result['consistency']['ok'] else result['consistency']['problems'][:5]}",
          flush=True)
    return result


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def check_consistency(call_id: int, storage: Any, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """The database after the rush, against what the clients were told."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from grants.extensions import db
    from grants.formatting import PARIS
    from grants.models import AuditEntry, Call, Dossier, DossierState
    from grants.operations.dossiers import canonical_json
    from grants.storage import store_for

    problems: list[str] = []
    store = store_for(storage)
    call = db.session.get(Call, call_id)
    ids = [o["dossier_id"] for o in outcomes]
    dossiers = {d.id: d for d in db.session.scalars(
        select(Dossier).where(Dossier.id.in_(ids)).options(selectinload(Dossier.versions)))}
    submitted_audit = set(db.session.scalars(select(AuditEntry.object_id).where(
        AuditEntry.object_type == "Dossier", AuditEntry.action == "dossier.submitted", AuditEntry.object_id.in_(ids))))
    told = {o["dossier_id"]: o["outcome"] for o in outcomes}
    references: list[str] = []
    for dossier_id, outcome in told.items():
        dossier = dossiers[dossier_id]
        if outcome == "recorded":
            if dossier.state is not DossierState.submitted:
                problems.append(f"{dossier_id}: told recorded, state {dossier.state.value}")
                continue
            if dossier.submitted_at is None or dossier.submitted_at >= call.closes_at:
                problems.append(f"{dossier_id}: submitted at {dossier.submitted_at}, closing {call.closes_at}")
            if len(dossier.versions) != 1:
                problems.append(f"{dossier_id}: {len(dossier.versions)} versions")
                continue
            version = dossier.versions[0]
            if not version.snapshot or hashlib.sha256(canonical_json(version.snapshot)).hexdigest() != version.sha256:
                problems.append(f"{dossier_id}: snapshot hash mismatch")
            if not version.receipt_file or not store.verify(version.receipt_file, version.receipt_sha256 or ""):
                problems.append(f"{dossier_id}: receipt missing or altered")
            if dossier_id not in submitted_audit:
                problems.append(f"{dossier_id}: no audit entry")
            references.append(dossier.reference or "")
        else:
            if dossier.state is not DossierState.draft or dossier.versions or dossier.reference:
                problems.append(f"{dossier_id}: told {outcome}, but state {dossier.state.value} "
                                f"with {len(dossier.versions)} versions")
    pattern = re.compile(rf"{re.escape(call.code)}-(\d{{4}})-(\d{{4,}})")
    numbers = sorted(int(m.group(2)) for r in references if (m := pattern.fullmatch(r)))
    if len(numbers) != len(references):
        problems.append("malformed references")
    if len(set(references)) != len(references):
        problems.append("duplicate references")
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"references with gaps: {numbers[:3]}…{numbers[-3:]}")
    # Nothing else of the call was submitted behind the clients' backs.
    others = db.session.scalar(select(Dossier.id).where(
        Dossier.call_id == call_id, Dossier.state != DossierState.draft, Dossier.id.not_in(ids)).limit(1))
    if others is not None:
        problems.append(f"dossier {others} submitted outside the rush")
    year = call.closes_at.astimezone(PARIS).year
    return {"ok": not problems, "checked": len(told), "submitted": len(references), "year": year,
            "problems": problems[:50]}
