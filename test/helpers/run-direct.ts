// One task through the core's runTask with no Queue: artifacts into a directory (the
// DirectoryPublisher `megalodon local` uses). Fast specs of the lifecycle and the executor
// contract use it.
import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import type { TaskExecutor } from '../../src/contract/executor.js'
import type { FeatureTable } from '../../src/contract/feature.js'
import type { Resolution } from '../../src/contract/outcome.js'
import type { Reclaimed, TaskClaim } from '../../src/contract/taskcluster.js'
import { buildConfig, type RawConfig, type WorkerConfig } from '../../src/config/config.js'
import { silentLogger } from '../../src/lib/logger.js'
import { DirectoryPublisher, taskFromFile } from '../../src/run/local.js'
import { runTask, type RunResult } from '../../src/run/task-run.js'

export interface DirectRun extends RunResult {
  log: string
  publisher: DirectoryPublisher
  config: WorkerConfig
}

export interface DirectOptions {
  config?: RawConfig
  /** Fields of the task definition (scopes…). */
  task?: Record<string, unknown>
  features?: FeatureTable
  shutdownSignal?: AbortSignal
  /** An upload of this artifact fails with the error returned (an injected Queue or S3 failure). */
  failUpload?: (name: string) => Error | undefined
  /** Reclaims the claim (none without it); `takenUntil` is when the first is due from. */
  reclaim?: { takenUntil: string; reclaim: (signal: AbortSignal) => Promise<Reclaimed> }
}

/** A worker config for direct runs: fresh directories under one temp dir. */
export async function directConfig(overrides: RawConfig = {}): Promise<WorkerConfig> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'megalodon-direct-'))
  return buildConfig([
    {
      provisionerId: 'test-provisioner',
      workerType: 'test-worker-type',
      workerGroup: 'test-worker-group',
      workerId: `direct-${process.pid}`,
      tasksDir: path.join(base, 'tasks'),
      cachesDir: path.join(base, 'caches'),
      downloadsDir: path.join(base, 'downloads'),
      // docker-worker's pull backoff in milliseconds instead of 15 s steps
      dockerConfig: { delayFactor: 5 },
      rootURL: 'http://127.0.0.1:1',
      ...overrides,
    },
  ])
}

export async function runDirect(executors: readonly TaskExecutor[], payload: unknown, options: DirectOptions = {}): Promise<DirectRun> {
  const config = await directConfig(options.config)
  const task = taskFromFile({ payload, ...options.task })
  const claim: TaskClaim = { taskId: slugid(), runId: 0, task, workerGroup: config.workerGroup, workerId: config.workerId, takenUntil: options.reclaim?.takenUntil ?? task.deadline, credentials: { clientId: 'direct', accessToken: '' } }
  const publisher = new DirectoryPublisher(await mkdtemp(path.join(os.tmpdir(), 'megalodon-direct-artifacts-')))
  let resolution: Resolution = { state: 'none' }
  const result = await runTask({
    claim,
    config,
    executors,
    features: options.features,
    logger: silentLogger(),
    shutdownSignal: options.shutdownSignal,
    services: {
      resolve: async (r) => void (resolution = r),
      publisher: {
        publish: async (spec) => {
          const err = options.failUpload?.(spec.name)
          if (err) throw err
          await publisher.publish(spec)
        },
      },
      credentials: () => claim.credentials,
      ...(options.reclaim ? { reclaim: options.reclaim.reclaim } : {}),
    },
  })
  const log = await readFile(result.logPath, 'utf8').catch(() => '')
  return { ...result, resolution, log, publisher, config }
}
