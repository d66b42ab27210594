#!/usr/bin/env bash
# Idempotent: what `make release` needs beyond npm: a C++ toolchain for node-pty's addon
# (node-gyp runs make, g++ and python3, as at `npm ci`), strip (binutils) for the runtime, and
# tar with gzip for the tarball.
set -euo pipefail
missing=()
for pair in g++:g++ make:make python3:python3 strip:binutils tar:tar gzip:gzip; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "release-tools-up: g++ make python3 strip tar gzip present"
