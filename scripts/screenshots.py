#!/usr/bin/env python3
"""Take the screenshots of docs/user-guide.md from a running demo (``make run``).

Usage:
    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:5000] [--out docs/img]

Logs in as each demo account through the login form and saves one PNG per page (1280 px wide,
the top 1 600 px of the page), with the names the user guide uses. Needs Debian's
``/usr/bin/chromium`` and Playwright (a dev dependency).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

APPLICANT = ("porteur@ml-valenciennois.demo", "Demo-Porteur-2026!")
OFFICER = ("instructeur@dreets-hdf.demo", "Demo-Instructeur-2026!")
COMMITTEE = ("comite@prefecture-hdf.demo", "Demo-Comite-2026!")
ADMIN = ("admin@dreets-hdf.demo", "Demo-Admin-2026!")


def login(page: Page, base: str, account: tuple[str, str]) -> None:
    page.context.clear_cookies()
    page.goto(base + "/compte/connexion")
    page.fill("input[name=email]", account[0])
    page.fill("input[name=password]", account[1])
    page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state("networkidle")


def shoot(page: Page, out: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    height = min(page.evaluate("document.documentElement.scrollHeight"), 1600)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": height})
    # A 256-colour palette: the DSFR's flat colours survive it, the file is about three times smaller.
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(path)


def first_link(page: Page, pattern: str) -> str:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return next(h for h in hrefs if re.search(pattern, h or ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.base.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        page.goto(base + "/compte/connexion")
        shoot(page, args.out, "login")

        login(page, base, APPLICANT)
        shoot(page, args.out, "applicant-home")
        page.get_by_role("link", name=re.compile("Seconde action")).first.click()
        shoot(page, args.out, "applicant-dossier")
        page.goto(base + first_link(page, r"/sections/resources$"))
        shoot(page, args.out, "applicant-resources")

        login(page, base, OFFICER)
        page.goto(base + first_link(page, r"^/instruction/appels/\d+"))
        shoot(page, args.out, "officer-queue")
        page.goto(base + first_link(page, r"^/instruction/dossiers/\d+$"))
        shoot(page, args.out, "officer-dossier")

        login(page, base, COMMITTEE)
        page.goto(base + first_link(page, r"^/comite/seances/\d+$"))
        shoot(page, args.out, "committee-session")

        login(page, base, ADMIN)
        page.goto(base + "/admin/appels")
        shoot(page, args.out, "admin-calls")
        browser.close()


if __name__ == "__main__":
    main()
