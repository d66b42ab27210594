// The payloads the differential test runs through both workers: docker-worker's own integration
// cases (test/integration/*.js, by test name), d2g corpus entries (../shared/upstream/d2g-testcases,
// by file and test name) with the image swapped for the local busybox test image (no registry is
// reachable), and edge cases. Cache names carry a per-run suffix: both workers keep caches.

import { BUSYBOX_IMAGE } from '../../helpers/docker.js'
import type { Case } from './harness.js'

const image = BUSYBOX_IMAGE
const sh = (script: string) => ['sh', '-c', script]
const run = Date.now().toString(36)
const past = new Date(Date.now() - 86400_000).toISOString()

export const CASES: Case[] = [
  // docker-worker test/integration/*.js
  { name: 'header and footer, success', source: 'header_footer_logs_test.js "header written to log"', payload: { image, command: sh('echo first; echo second'), maxRunTime: 60 } },
  { name: 'unsuccessful task', source: 'header_footer_logs_test.js "Unsuccessful task"', payload: { image, command: sh('echo boom; exit 1'), maxRunTime: 60 } },
  { name: 'echo env variable', source: 'env_test.js "echo env variable"', payload: { image, command: sh('echo "$WOOTBAR"'), env: { WOOTBAR: 'wootbar' }, maxRunTime: 60 } },
  { name: 'default task env', source: 'env_test.js "default task env variables"', payload: { image, command: sh('echo "id=$TASK_ID run=$RUN_ID pool=$TASKCLUSTER_WORKER_POOL type=$TASKCLUSTER_WORKER_TYPE group=$TASKCLUSTER_WORKER_GROUP ip=$TASKCLUSTER_PUBLIC_IP inst=$TASKCLUSTER_INSTANCE_TYPE"'), maxRunTime: 60 } },
  { name: 'extract artifact', source: 'file_artifact_test.js "extract artifact"', payload: { image, command: sh('mkdir -p /artifacts; echo "xfoo" > /artifacts/xfoo.txt'), artifacts: { 'public/xfoo': { type: 'file', path: '/artifacts/xfoo.txt' } }, maxRunTime: 60 } },
  { name: 'extract missing artifact', source: 'file_artifact_test.js "extract missing artifact"', payload: { image, command: sh('echo nothing'), artifacts: { 'public/xfoo': { type: 'file', path: '/artifacts/xfoo.txt' } }, maxRunTime: 60 } },
  { name: 'directory as file', source: 'file_artifact_test.js "attempt to upload directory as file"', payload: { image, command: sh('mkdir -p /artifacts/dir'), artifacts: { 'public/dir': { type: 'file', path: '/artifacts/dir' } }, maxRunTime: 60 } },
  { name: 'binary artifact', source: 'file_artifact_test.js "upload binary artifact"', payload: { image, command: sh('head -c 3000 /bin/busybox > /bin.out'), artifacts: { 'public/bin.out': { type: 'file', path: '/bin.out' } }, maxRunTime: 60 } },
  { name: 'upload a directory', source: 'directory_artifact_test.js "upload an entire directory"', payload: { image, command: sh('mkdir -p /xfoo/sub; echo a > /xfoo/a.txt; echo b > /xfoo/sub/b.log'), artifacts: { 'public/xfoo': { type: 'directory', path: '/xfoo' } }, maxRunTime: 60 } },
  { name: 'file as directory', source: 'directory_artifact_test.js "attempt to upload file as directory"', payload: { image, command: sh('echo x > /file'), artifacts: { 'public/file': { type: 'directory', path: '/file' } }, maxRunTime: 60 } },
  { name: 'invalid maxRunTime', source: 'invalid_payload_schema_test.js "invalid maxruntime"', payload: { image, command: sh('echo x'), maxRunTime: 'hello' } },
  { name: 'exit status is a string', source: 'invalid_payload_schema_test.js "invalid exit status - status string not number"', payload: { image, command: sh('exit 1'), maxRunTime: 60, onExitStatus: { retry: ['1'] } } },
  { name: 'unsupported feature', source: 'invalid_feature_test.js "issue a request with a non supported feature"', payload: { image, command: sh('echo x'), maxRunTime: 60, features: { doesNotExist: true } } },
  { name: 'disabled feature (taskclusterProxy)', source: 'features_test.js "disabled feature"', payload: { image, command: sh('echo x'), maxRunTime: 60, features: { taskclusterProxy: true } } },
  { name: 'max run time exceeded', source: 'maxruntime_test.js "worker sleep more than maxRunTime"', payload: { image, command: sh('echo before; sleep 30'), maxRunTime: 3 } },
  { name: 'retry on exit status', source: 'retry_intermittent_task_test.js "retry task with specified exit status"', payload: { image, command: sh('exit 36'), maxRunTime: 60, onExitStatus: { retry: [36] } } },
  { name: 'privileged without scopes', source: 'privileged_containers_test.js "task error when necessary scopes missing"', payload: { image, command: sh('echo x'), maxRunTime: 60, capabilities: { privileged: true } } },
  { name: 'privileged not enabled', source: 'privileged_containers_test.js "task error when privileged requested but not enabled in worker"', payload: { image, command: sh('echo x'), maxRunTime: 60, capabilities: { privileged: true } }, scopes: ['docker-worker:capability:privileged'] },
  { name: 'cache with scope', source: 'container_volume_caching_test.js "mount cached volume in docker worker"', payload: { image, command: sh('echo foo > /c/foo.txt; ls /c'), maxRunTime: 60, cache: { [`dw-diff-a-${run}`]: '/c' } }, scopes: [`docker-worker:cache:dw-diff-a-${run}`] },
  { name: 'cache through a role', source: 'container_volume_caching_test.js "mount cached volume in docker worker using role"', payload: { image, command: sh('echo foo > /c/foo.txt'), maxRunTime: 60, cache: { [`dw-diff-r-${run}`]: '/c' } }, scopes: ['assume:project:diff-cachers'], roles: { 'project:diff-cachers': [`docker-worker:cache:dw-diff-r-${run}`] } },
  { name: 'cache without scope', source: 'container_volume_caching_test.js "task unsuccesful when insufficient cache scope is provided"', payload: { image, command: sh('echo x'), maxRunTime: 60, cache: { [`dw-diff-n-${run}`]: '/c' } }, scopes: ['docker-worker:cache:something-else'] },
  { name: 'cache name with ::', source: 'container_volume_caching_test.js "task unsuccesful when invalid cache name is requested"', payload: { image, command: sh('echo x'), maxRunTime: 60, cache: { [`dw-diff::${run}`]: '/c' } }, scopes: [`docker-worker:cache:dw-diff::${run}`] },
  { name: 'device without scope', source: 'device_link_test.js "task failed when all scopes not specified"', payload: { image, command: sh('echo x'), maxRunTime: 60, capabilities: { devices: { kvm: true } } } },
  { name: 'ptrace without scope', source: 'features_test.js / allow_ptrace.js:18', payload: { image, command: sh('echo x'), maxRunTime: 60, features: { allowPtrace: true } } },
  // d2g corpus (../shared/upstream/d2g-testcases)
  { name: 'd2g env_test: env with spaces', source: 'd2g-testcases/env_test.yml', payload: { image, command: sh('echo "$A|$B"'), env: { A: 'a value with spaces', B: "quote'd \"and\" $dollar" }, maxRunTime: 60 } },
  { name: 'd2g no_artifacts_test', source: 'd2g-testcases/no_artifacts_test.yml', payload: { image, command: sh('echo hello world'), maxRunTime: 60 } },
  { name: 'd2g chain of trust', source: 'd2g-testcases/chain_of_trust_test.yml', payload: { image, command: sh('echo cot'), maxRunTime: 60, features: { chainOfTrust: true } } },
  // edge cases
  { name: 'no command', source: 'edge: payload without command (the image has no CMD)', payload: { image, maxRunTime: 60 }, dockerWorkerLeavesRunning: true },
  { name: 'artifact expires in the past', source: 'edge: artifact expiry before now', payload: { image, command: sh('echo x > /x'), maxRunTime: 60, artifacts: { 'public/x': { type: 'file', path: '/x', expires: past } } } },
  { name: 'volume artifact', source: 'edge: artifact type volume', payload: { image, command: sh('mkdir -p /v; echo x > /v/x'), maxRunTime: 60, artifacts: { 'public/v': { type: 'volume', path: '/v' } } } },
  { name: 'device not offered', source: 'edge: loopbackVideo, off in the kit (lead decision: failed)', payload: { image, command: sh('echo x'), maxRunTime: 60, capabilities: { devices: { loopbackVideo: true } } }, scopes: ['docker-worker:capability:device:loopbackVideo'], dockerWorkerLeavesRunning: true },
  // order of setup checks and host-access refusals (audit rows 31, 41, 42, 52)
  { name: 'ptrace pool scope, invalid schema', source: 'edge: allow_ptrace.js:18 takes no pool-suffixed scope, and is checked before the schema (src/task.js:759-797)', payload: { image, command: sh('echo x'), maxRunTime: 'x', features: { allowPtrace: true } }, scopes: ['docker-worker:feature:allowPtrace:test-provisioner/test-worker-type'] },
  { name: 'privileged and cache without scopes', source: 'edge: privileged is refused before caches (src/task.js:370,428)', payload: { image, command: sh('echo x'), maxRunTime: 60, capabilities: { privileged: true }, cache: { [`dw-diff-p-${run}`]: '/c' } } },
  { name: 'maxRunTime above a day', source: 'edge: no maxRunTime ceiling (payload.yml:173-179)', payload: { image, command: sh('echo x'), maxRunTime: 100000 } },
  { name: 'disabled feature false (taskclusterProxy)', source: 'edge: a `false` key of a feature not enabled (src/task.js:69-73)', payload: { image, command: sh('echo x'), maxRunTime: 60, features: { taskclusterProxy: false } } },
  { name: 'indexed image not in the index', source: 'edge: index.findTask fails (src/docker/indexed_image.js:56-65)', payload: { image: { type: 'indexed-image', namespace: 'project.dw-diff.nowhere', path: 'public/image.tar' }, command: sh('echo x'), maxRunTime: 60 } },
  { name: 'task image artifact missing', source: 'edge: a 404 for the image artifact (src/util/artifact_download.js:94-98)', payload: { image: { type: 'task-image', taskId: 'AAAAAAAAQAAAAAAAAAAAAA', path: 'public/image.tar' }, command: sh('echo x'), maxRunTime: 60 } },
]
