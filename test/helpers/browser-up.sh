#!/usr/bin/env bash
# Idempotent: Debian's chromium for the shadow report test (playwright-core drives it through
# executablePath; no browser download). Used by .ci/run.
set -euo pipefail
if ! [ -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
echo "browser-up: $(/usr/bin/chromium --version 2>/dev/null | tail -n 1)"
