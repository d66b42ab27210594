// Running megalodon against the fake Queue: in-process (most tests) or as the real CLI
// process (signals, exit codes).

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { defaultExecutors } from '../../executors/index.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { ClaimLoop } from '../../src/worker/claim-loop.js'
import { buildConfig, type RawConfig, type WorkerConfig } from '../../src/config/config.js'
import { silentLogger, type Logger } from '../../src/lib/logger.js'
import { startWorkerFeatures } from '../../src/worker/worker-features.js'
import { cliEntry, NODE_FLAGS } from '../../src/lib/paths.js'
import { generateKeyPair } from '../../src/lib/ed25519.js'
import { WORKER, type FakeQueue } from './fake-queue/index.js'

export const TASK_QUEUE_ID = 'test-provisioner/test-worker-type'
/**
 * This test process's worker id. Test runs on one machine share the Docker engine; a worker
 * starting up removes the containers its own id left, so each process has its own.
 */
export const TEST_WORKER_ID = `test-worker-${process.pid}`

export async function workerConfig(fake: FakeQueue, overrides: RawConfig = {}): Promise<RawConfig> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'megalodon-test-'))
  fake.addWorker(TASK_QUEUE_ID, 'test-worker-group', TEST_WORKER_ID)
  return {
    rootURL: fake.rootUrl,
    clientId: WORKER.clientId,
    accessToken: WORKER.accessToken,
    provisionerId: 'test-provisioner',
    workerType: 'test-worker-type',
    workerGroup: 'test-worker-group',
    workerId: TEST_WORKER_ID,
    tasksDir: path.join(base, 'tasks'),
    cachesDir: path.join(base, 'caches'),
    downloadsDir: path.join(base, 'downloads'),
    workerTypeMetadata: { machine: 'test' },
    // tests run as root, where `run` with no engine is multiuser (config.ts runDefaultEngine)
    engine: 'insecure',
    // docker-worker's pull backoff in milliseconds instead of 15 s steps
    dockerConfig: { delayFactor: 5 },
    livelogPortBase: 0, // any free port: tests run side by side
    taskclusterProxyPort: 0,
    interactivePort: 0,
    // every generic-worker build requires the setting (gwconfig/config.go:130); only the
    // multiuser engine reads the key at start, and on the insecure one a key that does not load
    // leaves chain of trust unoffered, as these tests expect unless they name a key
    ed25519SigningKeyLocation: overrides.engine === 'multiuser' ? await testSigningKey(base) : path.join(base, 'no-chain-of-trust-key'),
    ...overrides,
  }
}

async function testSigningKey(dir: string): Promise<string> {
  const file = path.join(dir, 'ed25519_private_key')
  await writeFile(file, generateKeyPair().privateKeyBase64, { mode: 0o600 })
  return file
}

/** Short retry delays so fault-injection tests stay quick. */
export const fastRetry = { minDelayMs: 20, maxDelayMs: 200 }

/** Run the claim loop in this process until it exits (set numberOfTasksToRun or idleTimeoutSecs). */
export async function runWorker(fake: FakeQueue, overrides: RawConfig = {}, executors: TaskExecutor[] = defaultExecutors(), logger: Logger = silentLogger()): Promise<{ exitCode: number; config: WorkerConfig }> {
  const config = buildConfig([await workerConfig(fake, overrides)])
  const features = await startWorkerFeatures(config, logger, () => ({ clientId: config.clientId, accessToken: config.accessToken }))
  const loop = new ClaimLoop({ config, executors, features: features.table, logger, queue: { rootUrl: fake.rootUrl, retry: fastRetry }, minClaimIntervalMs: 200 })
  try {
    return { exitCode: await loop.run(), config }
  } finally {
    await features.close()
  }
}

/** Start `megalodon run --config FILE` as a child process. */
export async function spawnWorker(
  fake: FakeQueue,
  overrides: RawConfig = {},
  options: { mode?: number; beforeStart?: (configFile: string) => void } = {},
): Promise<{ child: ChildProcess; exited: Promise<number | null>; stderr: () => string; config: RawConfig }> {
  const config = await workerConfig(fake, overrides)
  const file = path.join(path.dirname(String(config.tasksDir)), 'worker.json')
  await writeFile(file, JSON.stringify(config), { mode: options.mode })
  options.beforeStart?.(file)
  const child = spawn(process.execPath, [...NODE_FLAGS, cliEntry, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.dirname(file) })
  let err = ''
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  child.stdout!.resume()
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited, stderr: () => err, config }
}
