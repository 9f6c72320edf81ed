#!/usr/bin/env python3
"""Extract the 10 000 most common passwords from the npm package @zxcvbn-ts/language-common.

Usage:
    python scripts/extract_common_passwords.py [--version 4.1.3]

The package's ``src/passwords.json`` lists passwords from the most to the least frequent
(lowercased); its first 10 000 entries are written, one a line, to
``grants/data/common_passwords.txt``. The tarball is fetched with ``npm pack`` into a
temporary directory. Standard library only; requires ``npm`` and the npm registry.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@zxcvbn-ts/language-common"
COUNT = 10_000
OUTPUT = Path(__file__).resolve().parent.parent / "grants" / "data" / "common_passwords.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="4.1.3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{args.version}", "--silent"], cwd=workdir, check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = Path(workdir).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/src/passwords.json")
            assert member is not None
            passwords = json.load(member)
    top: list[str] = []
    for password in passwords:
        password = password.strip().lower()
        if password and password not in top:
            top.append(password)
        if len(top) == COUNT:
            break
    assert len(top) == COUNT, len(top)
    OUTPUT.write_text("".join(f"{p}\n" for p in top), encoding="utf-8")
    print(f"{OUTPUT}: {len(top)} passwords from {PACKAGE} {args.version}")


if __name__ == "__main__":
    main()
