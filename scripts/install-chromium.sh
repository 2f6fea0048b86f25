#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the browser check of the HTML report
# (specs/reports/browser.spec.ts, driven by playwright-core, which downloads no browser of its own).
# Does nothing when it is there already; run as root (or with sudo). .ci/run runs it before the tests.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
install() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >"$log" 2>&1; }
# The package lists are refreshed only when the install fails without them (none yet, or stale ones that name
# package versions the mirror no longer has): apt-get update costs seconds that most runs need not pay.
if ! install; then
  $sudo apt-get update -q >>"$log" 2>&1 && install || { cat "$log" >&2; echo "install-chromium: apt-get install chromium failed (log above)" >&2; exit 1; }
fi
echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null) installed at /usr/bin/chromium"
