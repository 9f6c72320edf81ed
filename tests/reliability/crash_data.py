"""Data for the crash test, made in a process of its own: ``python -m tests.reliability.crash_data
DATABASE_URL STORAGE_DIR COUNT`` prints ``{"email", "password", "call_id", "drafts"}`` as JSON."""

from __future__ import annotations

import json
import sys

from argon2 import PasswordHasher

PASSWORD = "Essai-de-panne-2026!"


def main(database_url: str, storage_dir: str, count: int) -> None:
    from bench.child import make_app
    from bench.dataset import OPEN_CALL, DatasetSpec, Generator
    from grants.extensions import db

    app = make_app(database_url, storage_dir)
    with app.app_context():
        spec = DatasetSpec(dossiers=1, structures=2, attachments_per_dossier=6, officers=1, committee_members=1)
        gen = Generator(db.session, spec, password_hash=PasswordHasher(time_cost=1, memory_cost=256).hash(PASSWORD),
                        storage_dir=storage_dir)
        gen.add_base()
        structure = gen.structures[0]["id"]
        pool = gen.add_pool(OPEN_CALL, [structure], count)
        gen.finish()
        db.session.commit()
        print(json.dumps({"email": pool.users[structure], "password": PASSWORD, "call_id": pool.call_id,
                          "drafts": pool.drafts[structure]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
