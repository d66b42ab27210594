#!/usr/bin/env bash
# Idempotent: a local image registry (Debian's docker-registry) on 127.0.0.1:5000, no auth,
# no TLS (docker treats 127.0.0.0/8 registries as insecure-allowed). docker-up.sh installs it.
set -euo pipefail
answers() { curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1; }
if answers; then exit 0; fi
dir=/tmp/megalodon-registry
mkdir -p "$dir/data"
cat >"$dir/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YAML
nohup docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
for _ in $(seq 1 30); do answers && exit 0; sleep 0.5; done
echo "registry-up: the registry did not answer; its log:" >&2
tail -n 20 "$dir/log" >&2
exit 1
