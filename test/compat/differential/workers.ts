// The two workers of the differential test, each against the same fake Queue and pool: the real
// docker-worker 99.2.1 from the reference kit (../shared/docker-worker-reference, installed by
// its setup.sh into $DW_ROOT, default /opt/dw) as a child process, and megalodon in process.
// They never run at once: docker-worker takes the whole phase's tasks, then megalodon does.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { projectPath } from '../../../src/lib/paths.js'
import { WORKER, type FakeQueue } from '../../helpers/fake-queue/index.js'
import { TASK_QUEUE_ID, runWorker } from '../../helpers/worker.js'

export const KIT = projectPath('..', 'shared', 'docker-worker-reference')
export const DW_ROOT = process.env.DW_ROOT ?? '/opt/dw'
/** One worker identity for both, so their logs and Queue calls name the same worker. */
export const WORKER_GROUP = 'diff-group'
export const WORKER_ID = 'diff-worker'
const [PROVISIONER, WORKER_TYPE] = TASK_QUEUE_ID.split('/') as [string, string]

export function dockerWorkerInstalled(): boolean {
  return existsSync(path.join(DW_ROOT, 'kit.env')) && existsSync(path.join(DW_ROOT, 'workers', 'docker-worker', 'node_modules', '.kit-stamp'))
}

export interface DockerWorker {
  /** Its stdout (JSON lines: `claimed task`, `task error` …), for a failure report. */
  output(): string
  stop(): Promise<void>
}

/** Start docker-worker; it claims until stopped (no idle shutdown). */
export function startDockerWorker(fake: FakeQueue, caFile: string): DockerWorker {
  fake.addWorker(TASK_QUEUE_ID, WORKER_GROUP, WORKER_ID)
  const child: ChildProcess = spawn('bash', [path.join(KIT, 'run-docker-worker.sh'), fake.rootUrl, WORKER.clientId, WORKER.accessToken, PROVISIONER, WORKER_TYPE, WORKER_ID], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      DW_ROOT,
      DW_WORKER_GROUP: WORKER_GROUP,
      NODE_EXTRA_CA_CERTS: caFile,
      // polling faster than the kit's 1 s changes nothing a task sees, and keeps the test short
      DW_CONFIG_JSON: JSON.stringify({ shutdown: { afterIdleSeconds: 0 }, taskQueue: { pollInterval: 200 } }),
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => void (out += d.toString('utf8')))
  child.stderr!.on('data', (d: Buffer) => void (out += d.toString('utf8')))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      // docker-worker acts on SIGTERM at the end of its current claimWork poll (the kit's README)
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** The config megalodon gets: docker-worker's host facts and device offers, as the kit sets them. */
export function megalodonConfig(): Record<string, unknown> {
  return {
    workerGroup: WORKER_GROUP,
    workerId: WORKER_ID,
    publicIP: '127.0.0.1',
    // the host facts the kit gives docker-worker, which its chain-of-trust certificate lists
    privateIP: '127.0.0.1',
    instanceID: 'test-worker-instance',
    region: 'reference-region',
    instanceType: 'reference-instance-type',
    // docker-worker's config.yml:40 refuses privileged tasks; generic-worker's d2gConfig allows them by default
    d2gConfig: { enableD2G: true, allowKVM: existsSync('/dev/kvm'), allowPrivileged: false },
    // the kit turns taskclusterProxy off and signs with docker-worker's test key
    enableTaskclusterProxy: false,
    ed25519SigningKeyLocation: path.join(DW_ROOT, 'workers', 'docker-worker', 'test', 'fixtures', 'ed25519_private_key'),
  }
}

/** megalodon's own client (the test helper re-scopes the shared one for its own worker id). */
const MEGALODON = { clientId: 'worker/megalodon', accessToken: 'megalodon-secret-token-0123456789' }

/**
 * Run megalodon in this process until it has resolved `tasks` tasks. `cachesDir` is kept across
 * the cases, as the one docker-worker process keeps the caches earlier cases made (it asks
 * purge-cache once it holds one).
 */
export async function runMegalodon(fake: FakeQueue, tasks: number, cachesDir: string): Promise<void> {
  fake.addWorker(TASK_QUEUE_ID, WORKER_GROUP, WORKER_ID, MEGALODON)
  await runWorker(fake, { ...megalodonConfig(), ...MEGALODON, numberOfTasksToRun: tasks, cachesDir })
}
