#!/usr/bin/env bash
# Debian packages the periodic reports need: Pango and HarfBuzz-Subset (WeasyPrint lays out the
# PDF and subsets its fonts with them) and
# poppler-utils (pdftoppm, to look at a PDF's pages as pictures). Idempotent: installs only what
# is missing, with apt-get when run as root; otherwise says what to install and carries on.
set -euo pipefail

missing=()
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so' || missing+=(libharfbuzz-subset0)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
((${#missing[@]})) || exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "report-packages: please install ${missing[*]} (PDF reports need them)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
