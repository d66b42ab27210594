#!/usr/bin/env bash
# Idempotent: the Debian tools behind the mount formats node cannot decode itself (bzip2, xz,
# lzip, lz4, 7z), plus those the tests use to make archives (gzip, zstd, brotli, zip,
# python3-snappy).
set -euo pipefail
missing=()
for pair in bzip2:bzip2 xz:xz-utils lzip:lzip lz4:lz4 7z:p7zip-full zstd:zstd brotli:brotli zip:zip; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
# Debian's python3 with python-snappy makes the tests' .sz fixtures
/usr/bin/python3 -c 'import snappy' >/dev/null 2>&1 || missing+=(python3-snappy)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "archive-tools-up: bzip2 xz lzip lz4 7z zstd brotli zip python3-snappy present"
