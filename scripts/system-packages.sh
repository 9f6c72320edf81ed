#!/usr/bin/env bash
# The Debian packages Parcours QPV and its tests need, installed when missing (as root, or with a
# sudo that asks no password). `make install` runs it; CI runs it with --required, which fails when a
# package cannot be installed instead of only saying so.
#   chromium                      the browser tests (Playwright drives Debian's /usr/bin/chromium)
#   poppler-utils                 pdftotext / pdftoppm, to read the PDFs in tests
#   clamav-daemon                 clamd, started by the antivirus tests with their own signatures
#   libpango…, libharfbuzz…, fonts-dejavu-core   WeasyPrint's text layout
set -euo pipefail
required=0
[ "${1:-}" = "--required" ] && required=1

packages=(chromium poppler-utils clamav-daemon libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
else
  echo "Pas de dpkg : installez vous-même l'équivalent de : ${packages[*]}" >&2
  exit $((required))
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

say() { echo "Paquets Debian manquants : ${missing[*]} — $1" >&2; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    say "installez-les (sudo apt-get install ${missing[*]}) : sans eux, les tests du navigateur et de l'antivirus ne peuvent pas tourner."
    exit $((required))
  fi
fi
echo "Installation des paquets Debian manquants : ${missing[*]}"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  say "l'installation a échoué (réseau ?)."
  exit $((required))
fi
