#!/usr/bin/env bash
# Vendor the DSFR (Système de Design de l'État) into grants/static/vendor/dsfr/.
#
# Usage:
#   scripts/vendor_dsfr.sh [VERSION]     # fetch + copy + check (default version below)
#   scripts/vendor_dsfr.sh --check       # only check the url(...) references of the vendored CSS
#
# Environment:
#   DSFR_VERSION        npm version/range of @gouvfr/dsfr (overridden by the VERSION argument).
#                       Default is pinned for reproducibility; use "1.15" to take the latest 1.15 patch.
#   DSFR_ICON_FAMILIES  "all" (default) or a space-separated list of icon families to keep, e.g.
#                       "system user document business buildings map communication others".
#                       The SVGs referenced by dsfr.min.css itself are always kept.
#
# Only what a server-rendered app needs is copied (no source maps, no legacy/ES5 CSS,
# no per-component bundles, no .woff fonts -- every @font-face lists the .woff2 first):
#   dsfr.min.css, dsfr.module.min.js, dsfr.nomodule.min.js, fonts/*.woff2, favicon/,
#   utility/icons/icons.min.css, icons/<family>/*.svg, LICENSE.md, VERSION.
# The dist/ layout is kept so that the relative url(...) in the CSS resolve:
#   dsfr.min.css                 -> url(fonts/...), url(icons/...)
#   utility/icons/icons.min.css  -> url(../../icons/...)
#
# The script is idempotent: the destination folder is emptied and re-filled on each run.
# Requires: bash, npm (registry access), tar, node.
set -euo pipefail

DEFAULT_VERSION="1.15.3"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO_ROOT/grants/static/vendor/dsfr"

log() { printf '[vendor_dsfr] %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Check that every url(...) of the vendored CSS points to an existing file.
# Returns non-zero if a reference is unexpectedly missing.
# ---------------------------------------------------------------------------
check_css_urls() {
    local css css_dir ref path total=0 ok=0 woff=0 dropped=0 missing=0
    local -a missing_list=()
    for css in "$DEST/dsfr.min.css" "$DEST/utility/icons/icons.min.css"; do
        [[ -f "$css" ]] || { log "MISSING CSS FILE: $css"; return 1; }
        css_dir="$(dirname "$css")"
        while IFS= read -r ref; do
            [[ -z "$ref" ]] && continue
            total=$((total + 1))
            path="$css_dir/$ref"
            if [[ -f "$path" ]]; then
                ok=$((ok + 1))
            elif [[ "$ref" == *.woff && -f "${path}2" ]]; then
                # .woff fallback intentionally not vendored; the .woff2 sibling exists.
                woff=$((woff + 1))
            elif [[ "${ICON_FAMILIES}" != "all" && "$ref" =~ icons/([^/]+)/ \
                    && " ${ICON_FAMILIES} " != *" ${BASH_REMATCH[1]} "* ]]; then
                dropped=$((dropped + 1))
            else
                missing=$((missing + 1))
                missing_list+=("${css#"$DEST"/}: $ref")
            fi
        done < <(grep -o 'url([^)]*)' "$css" \
                    | sed -e 's/^url(//' -e 's/)$//' -e "s/^[\"']//" -e "s/[\"']\$//" \
                    | grep -v '^data:' \
                    | sed -e 's/[?#].*$//' \
                    | sort -u)
    done
    log "url() check: ${total} distinct file references, ${ok} found," \
        "${woff} .woff fallbacks intentionally omitted (woff2 present)," \
        "${dropped} in dropped icon families, ${missing} missing"
    if ((missing > 0)); then
        printf '  missing: %s\n' "${missing_list[@]}" >&2
        return 1
    fi
}

if [[ "${1:-}" == "--check" ]]; then
    ICON_FAMILIES="all"
    if [[ -f "$DEST/ICON_FAMILIES" ]]; then
        ICON_FAMILIES="$(tr '\n' ' ' < "$DEST/ICON_FAMILIES")"
    fi
    check_css_urls
    exit $?
fi

DSFR_VERSION="${1:-${DSFR_VERSION:-$DEFAULT_VERSION}}"
ICON_FAMILIES="${DSFR_ICON_FAMILIES:-all}"

command -v npm >/dev/null || { log "npm is required"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vendor-dsfr.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log "fetching @gouvfr/dsfr@${DSFR_VERSION} with npm pack into $WORK"
# The package's preinstall hook asks for license acceptance; npm pack does not run it,
# but export the variable anyway in case npm behaviour changes.
tarball="$(cd "$WORK" && DSFR_ACCEPT_LICENSE=1 npm pack --silent "@gouvfr/dsfr@${DSFR_VERSION}" 2>/dev/null | tail -n 1)"
[[ -n "$tarball" && -f "$WORK/$tarball" ]] || { log "npm pack failed"; exit 1; }
tar -xzf "$WORK/$tarball" -C "$WORK"

PKG="$WORK/package"
DIST="$PKG/dist"
version="$(node -p 'require(process.argv[1]).version' "$PKG/package.json")"
log "resolved version: ${version}"

for f in dsfr.min.css dsfr.module.min.js dsfr.nomodule.min.js utility/icons/icons.min.css; do
    [[ -f "$DIST/$f" ]] || { log "unexpected package layout: dist/$f not found"; exit 1; }
done

# Start from a clean destination (idempotent, removes files dropped upstream).
case "$DEST" in
    */grants/static/vendor/dsfr) ;;
    *) log "refusing to clean unexpected destination $DEST"; exit 1 ;;
esac
mkdir -p "$DEST"
find "$DEST" -mindepth 1 -delete

# Core CSS / JS
cp "$DIST/dsfr.min.css" "$DIST/dsfr.module.min.js" "$DIST/dsfr.nomodule.min.js" "$DEST/"

# Fonts: Marianne + Spectral, woff2 only
mkdir -p "$DEST/fonts"
cp "$DIST"/fonts/Marianne-*.woff2 "$DIST"/fonts/Spectral-*.woff2 "$DEST/fonts/"

# Favicons (+ manifest)
cp -R "$DIST/favicon" "$DEST/favicon"

# Icon utility classes (fr-icon-*)
mkdir -p "$DEST/utility/icons"
cp "$DIST/utility/icons/icons.min.css" "$DEST/utility/icons/"

# Icon SVGs
if [[ "$ICON_FAMILIES" == "all" ]]; then
    log "keeping all icon families: $(ls "$DIST/icons" | tr '\n' ' ')"
    for famdir in "$DIST"/icons/*/; do
        fam="$(basename "$famdir")"
        mkdir -p "$DEST/icons/$fam"
        cp "$famdir"*.svg "$DEST/icons/$fam/"
    done
else
    log "NOTE: keeping only icon families: ${ICON_FAMILIES}" \
        "(fr-icon-* classes of other families in utility/icons/icons.min.css will render without icon)"
    for fam in $ICON_FAMILIES; do
        [[ -d "$DIST/icons/$fam" ]] || { log "unknown icon family: $fam"; exit 1; }
        mkdir -p "$DEST/icons/$fam"
        cp "$DIST/icons/$fam"/*.svg "$DEST/icons/$fam/"
    done
    # Always keep the SVGs that dsfr.min.css (components) references itself.
    grep -o 'url(icons/[^)]*\.svg)' "$DIST/dsfr.min.css" | sed -e 's/^url(//' -e 's/)$//' | sort -u \
        | while IFS= read -r rel; do
            mkdir -p "$DEST/$(dirname "$rel")"
            cp "$DIST/$rel" "$DEST/$rel"
        done
    printf '%s\n' "$ICON_FAMILIES" > "$DEST/ICON_FAMILIES"
fi

# Licence + version
cp "$PKG/LICENSE.md" "$DEST/LICENSE.md"
printf '%s\n' "$version" > "$DEST/VERSION"

check_css_urls

size_bytes="$(du -sb "$DEST" | cut -f1)"
nfiles="$(find "$DEST" -type f | wc -l)"
log "vendored @gouvfr/dsfr ${version} into ${DEST#"$REPO_ROOT"/}: ${nfiles} files, ${size_bytes} bytes ($(du -sh --apparent-size "$DEST" | cut -f1))"
