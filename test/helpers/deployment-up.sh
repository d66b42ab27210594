#!/usr/bin/env bash
# Idempotent: bring up the shared real Taskcluster deployment (../shared/taskcluster-deployment
# relative to the repo root; not part of the project) for the deployment suite, with the
# project's own Node 24 and a 60 s claim timeout (reclaim, cancel and claim-expired scenarios
# then take about a minute instead of twenty). Prints how long it took. Used by .ci/run; then
# `. /opt/tc-state/env.sh` (set -a) and `npm run test:deployment`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
deployment=${MEGALODON_TC_DEPLOYMENT:-$root/../shared/taskcluster-deployment}
[ -x "$deployment/up.sh" ] || { echo "deployment-up: no $deployment/up.sh" >&2; exit 1; }
node=$(readlink -f "$root/node_modules/node/bin/node")
start=$SECONDS
# The kit takes a pid file's process for its service while that pid is alive. After the machine
# restarted, a pid can belong to another process by now (seen: secrets-web's pid reused by a
# queue resolver, so secrets was never started again). A process that started after its pid
# file was written is not the one it names: drop such pid files so the kit starts the service.
state=${TC_STATE:-/opt/tc-state}
for f in "$state"/pids/*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  lstart=$(ps -o lstart= -p "$pid" 2>/dev/null) || continue
  [ -n "$lstart" ] || continue
  started=$(date -d "$lstart" +%s)
  if [ "$started" -gt $(($(stat -c %Y "$f") + 5)) ]; then
    echo "deployment-up: $(basename "$f" .pid): pid $pid is another process now; starting it afresh" >&2
    rm -f "$f"
  fi
done
TC_TASK_CLAIM_TIMEOUT=${TC_TASK_CLAIM_TIMEOUT:-60} bash "$deployment/up.sh" --node "$node"
echo "deployment-up: the deployment answered after $((SECONDS - start)) s" >&2
