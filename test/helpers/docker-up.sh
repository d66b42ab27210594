#!/usr/bin/env bash
# Idempotent: make a Docker engine answer on /var/run/docker.sock on these machines (root, no
# systemd). Installs Debian's docker.io (with busybox-static for test images and
# docker-registry for pull tests) when missing,
# starts dockerd when the socket does not answer, and waits for it. Used by .ci/run and tests.
set -euo pipefail
log=/tmp/megalodon-dockerd.log
answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if ! command -v dockerd >/dev/null 2>&1 || [ ! -x /usr/bin/busybox ] || ! command -v docker-registry >/dev/null 2>&1 || ! command -v lz4 >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # lz4: the worker decompresses .tar.lz4 image artifacts with it
  apt-get install -y -qq docker.io busybox-static docker-registry lz4 >/dev/null
fi
# A dockerd that was killed can leave its pid file behind (and be a zombie for a moment):
# dockerd refuses to start while the file names a process, so a stale one is removed.
clear_stale_pidfile() {
  local pidfile=/var/run/docker.pid pid state
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  state=$(ps -o stat= -p "$pid" 2>/dev/null | tr -d ' ' || true)
  if [ -z "$state" ] || [[ "$state" == Z* ]]; then rm -f "$pidfile"; fi
}
for _attempt in 1 2 3; do
  answers && break
  clear_stale_pidfile
  nohup dockerd >"$log" 2>&1 &
  started=$!
  for _ in $(seq 1 30); do
    answers && break
    # it gave up (a stale pid file, say): try again
    kill -0 "$started" 2>/dev/null || break
    sleep 1
  done
done
if ! answers; then
  echo "docker-up: dockerd did not answer within 60 s; its log ($log) ends with:" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
fi
echo "docker-up: engine $(docker version --format '{{.Server.Version}}') ready"
