// The production loop: claim work while there is free capacity, run each claim as a TaskRun,
// stop claiming on request (finishing or aborting running tasks), and exit with
// generic-worker's exit code for the reason the loop ended.

import { statfs } from 'node:fs/promises'
import type { FeatureTable } from '../contract/feature.js'
import type { ExecutorHost, TaskExecutor } from '../contract/executor.js'
import { QueueArtifactPublisher } from '../taskcluster/artifact-upload.js'
import type { WorkerConfig } from '../config/config.js'
import { InternalError, WorkerShutdown } from '../contract/errors.js'
import { ExitCode } from './exit-codes.js'
import type { Logger } from '../lib/logger.js'
import type { WorkerMetrics } from './metrics.js'
import { TaskQueue, WorkerQueue, type QueueOptions } from '../taskcluster/queue.js'
import { statusOf } from '../taskcluster/retry.js'
import { purgeTaskDirs, removeTaskDir } from '../lib/task-dir.js'
import { updateWorkerStatus, writeLastTask } from './state-files.js'
import { runTask } from '../run/task-run.js'
import type { TaskClaim, WorkerCredentials } from '../contract/taskcluster.js'
import { expandScopes } from '../taskcluster/auth.js'
import { logWorkerEvent } from './worker-metrics.js'
import { configCredentials, workerCredentials } from '../taskcluster/credentials.js'

export interface ClaimLoopOptions {
  config: WorkerConfig
  executors: readonly TaskExecutor[]
  /** Features this worker offers (see src/worker/worker-features.ts). */
  features?: FeatureTable
  logger: Logger
  queue: QueueOptions
  /** Least time between two claimWork calls when no task was claimed (generic-worker: 5 s). */
  minClaimIntervalMs?: number
  /** Longest backoff after failed claimWork calls. Default 60 s. */
  maxErrorBackoffMs?: number
  metrics?: WorkerMetrics
  /** The worker's credentials, replaced while it runs (default: those the config names, never replaced). */
  credentials?: WorkerCredentials
  /**
   * Under worker-runner: worker-manager's shouldWorkerTerminate. Asked on every pass of the
   * loop, at the idle timeout and when numberOfTasksToRun is reached (generic-worker main.go:530-536,
   * 587-590, 771-786). Without it (standalone) the worker never asks.
   */
  shouldTerminate?: (when: TerminateCheck) => Promise<boolean>
  /** generic-worker's `$TMPDIR/worker-status.json`, kept while tasks run (src/worker/state-files.ts). */
  statusFile?: string
  /** enableMetadata: generic-worker-metadata.json, rewritten after each task (src/worker/state-files.ts). */
  metadataFile?: string
}

/** Where the claim loop asks worker-manager whether to terminate. */
export type TerminateCheck = 'claim-loop' | 'idle' | 'tasks-done'

/** What `megalodon status` shows about a running task. */
export interface RunningTask {
  taskId: string
  runId: number
  name: string
  since: string
}

/** A promise that can be woken early: for waits that a finished task or a stop cuts short. */
class Wakeup {
  private wake: (() => void) | undefined
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wake = done
    })
  }
  notify(): void {
    this.wake?.()
  }
}

export class ClaimLoop {
  private readonly workerQueue: WorkerQueue
  private readonly running = new Map<string, Promise<void>>()
  private readonly runningInfo = new Map<string, RunningTask>()
  readonly startedAt = new Date()
  private readonly wakeup = new Wakeup()
  private readonly shutdown = new AbortController()
  private stopCode: number | undefined
  private resolvedCount = 0
  private readyLogged = false
  private readonly workerCredentials: WorkerCredentials
  /** Since when no task has been running (idleTimeoutSecs counts from here). */
  private idleSince = Date.now()
  /** Status file writes, one after another. */
  private statusWrites: Promise<void> = Promise.resolve()

  constructor(private readonly options: ClaimLoopOptions) {
    const { config } = options
    this.workerCredentials = options.credentials ?? workerCredentials(configCredentials(config))
    this.workerQueue = new WorkerQueue(options.queue, this.workerCredentials)
  }

  /** Stop claiming. finishTasks=false aborts running tasks as worker-shutdown. */
  stop(options: { finishTasks: boolean; exitCode: number }): void {
    this.stopCode ??= options.exitCode
    this.options.logger.info({ finishTasks: options.finishTasks }, 'stopping: no more claims')
    if (!options.finishTasks) this.shutdown.abort(new WorkerShutdown())
    this.wakeup.notify()
  }

  /**
   * The process is failing: abort every running task as internal-error (each is still
   * resolved, with the error in its log), stop claiming, exit 69 once they are resolved.
   */
  crash(err: unknown): void {
    this.stopCode = ExitCode.InternalError
    this.options.logger.fatal({ err }, 'internal error: aborting running tasks')
    this.shutdown.abort(new InternalError(`worker internal error: ${err instanceof Error ? err.message : String(err)}`, { cause: err }))
    this.wakeup.notify()
  }

  /** Wait until every running task is resolved (and the status file says so). */
  async drain(): Promise<void> {
    await Promise.all(this.running.values())
    await this.statusWrites
  }

  private writeStatus(): void {
    const file = this.options.statusFile
    if (!file) return
    const ids = [...this.runningInfo.values()].map((t) => t.taskId)
    this.statusWrites = this.statusWrites
      .then(() => updateWorkerStatus(file, ids))
      .catch((err: unknown) => this.options.logger.warn({ err, file }, 'could not write the worker status file'))
  }

  runningTasks(): RunningTask[] {
    return [...this.runningInfo.values()]
  }

  get tasksResolved(): number {
    return this.resolvedCount
  }

  async run(): Promise<number> {
    const { config, logger } = this.options
    const taskQueueId = `${config.provisionerId}/${config.workerType}`
    for (const executor of this.options.executors) {
      // e.g. containers a crashed run of this worker left; an engine that is down is not fatal here
      await executor.startup?.(executorHost(config, logger, executor.name)).catch((err: unknown) => logger.warn({ err, executor: executor.name }, 'executor start-up cleanup failed'))
    }
    await purgeTaskDirs(config.tasksDir)
    let errorBackoff = 1000
    let lastDiskWarning = 0
    logger.info({ taskQueueId, capacity: config.capacity }, 'worker started')

    const askTerminate = this.options.shouldTerminate
    while (this.stopCode === undefined) {
      const limit = config.numberOfTasksToRun > 0 ? config.numberOfTasksToRun - this.resolvedCount - this.running.size : Infinity
      if (limit <= 0) {
        if (this.running.size === 0) {
          // generic-worker main.go:530-536: all tasks done → 70 if worker-manager says terminate, else 0
          this.stopCode ??= askTerminate && (await askTerminate('tasks-done')) ? ExitCode.WorkerManagerShutdown : ExitCode.TasksComplete
          break
        }
        await this.wakeup.sleep(60_000)
        continue
      }
      // generic-worker main.go:587-590: on every pass, worker-manager may end the worker (running tasks finish)
      if (askTerminate && (await askTerminate('claim-loop'))) {
        this.stopCode ??= ExitCode.WorkerManagerShutdown
        break
      }
      if (this.stopCode !== undefined) break
      const free = Math.min(config.capacity - this.running.size, limit, 32)
      if (free <= 0) {
        await this.wakeup.sleep(60_000)
        continue
      }
      if (this.running.size > 0) this.idleSince = Date.now()
      if (config.idleTimeoutSecs > 0 && Date.now() - this.idleSince >= config.idleTimeoutSecs * 1000) {
        // generic-worker main.go:771-786: under worker-runner the idle timeout ends the worker only
        // if worker-manager agrees; otherwise the idle timer starts again
        if (!askTerminate || (await askTerminate('idle'))) {
          logger.info({ idleTimeoutSecs: config.idleTimeoutSecs }, 'idle timeout')
          this.stopCode ??= ExitCode.IdleTimeout
          break
        }
        logger.info({ idleTimeoutSecs: config.idleTimeoutSecs }, 'idle timeout reached but worker-manager says not to terminate: idle timer reset')
        this.idleSince = Date.now()
      }

      if (this.running.size === 0) {
        for (const executor of this.options.executors) await executor.idle?.(executorHost(config, logger, executor.name)).catch((err: unknown) => logger.warn({ err, executor: executor.name }, 'idle sweep failed'))
      }

      // generic-worker keeps requiredDiskSpaceMegabytes free before it claims; a full disk
      // pauses claiming (it does not crash the worker) until space returns.
      let freeMb = await freeMegabytes(config.tasksDir)
      if (freeMb !== undefined && freeMb < config.requiredDiskSpaceMegabytes) {
        // generic-worker's garbage collection: evict unused downloads and caches first
        const enough = async () => ((await freeMegabytes(config.tasksDir)) ?? Infinity) >= config.requiredDiskSpaceMegabytes
        for (const executor of this.options.executors) {
          if (await enough()) break
          await executor.collectGarbage?.(executorHost(config, logger, executor.name), enough).catch((err: unknown) => logger.warn({ err, executor: executor.name }, 'garbage collection failed'))
        }
        freeMb = await freeMegabytes(config.tasksDir)
      }
      if (freeMb !== undefined && freeMb < config.requiredDiskSpaceMegabytes) {
        if (Date.now() - lastDiskWarning >= 60_000) {
          logger.warn({ freeMb, requiredDiskSpaceMegabytes: config.requiredDiskSpaceMegabytes, tasksDir: config.tasksDir }, 'not enough free disk space: not claiming until there is')
          lastDiskWarning = Date.now()
        }
        await this.wakeup.sleep(Math.min(this.options.minClaimIntervalMs ?? 5000, 5000))
        continue
      }

      const claimStarted = Date.now()
      let claims: TaskClaim[] = []
      try {
        // A claimWork in flight is never abandoned on stop: the Queue may already have claimed
        // tasks for this worker, and each of them is run (or aborted by the shutdown) and resolved.
        // main.go:864-868: workerReady once, before the first claimWork
        if (!this.readyLogged) {
          this.readyLogged = true
          logWorkerEvent(logger, config, 'workerReady')
        }
        claims = await this.workerQueue.claimWork(taskQueueId, { workerGroup: config.workerGroup, workerId: config.workerId, tasks: free })
        this.options.metrics?.claimWork((Date.now() - claimStarted) / 1000, claims.length)
        errorBackoff = 1000
      } catch (err) {
        if (this.stopCode !== undefined) break
        logger.error({ err, status: statusOf(err) }, 'claimWork failed')
        await this.wakeup.sleep(errorBackoff * (0.75 + Math.random() / 2))
        errorBackoff = Math.min(errorBackoff * 2, this.options.maxErrorBackoffMs ?? 60_000)
        continue
      }
      if (claims.length > 0) {
        for (const executor of this.options.executors) {
          await executor.claimed?.(executorHost(config, logger, executor.name)).catch((err: unknown) => logger.warn({ err, executor: executor.name }, 'after-claim step failed'))
        }
        for (const claim of claims) this.start(claim)
        continue
      }
      const wait = (this.options.minClaimIntervalMs ?? 5000) - (Date.now() - claimStarted)
      if (wait > 0) await this.wakeup.sleep(config.idleTimeoutSecs > 0 ? Math.min(wait, config.idleTimeoutSecs * 1000) : wait)
    }

    await this.drain()
    logger.info({ exitCode: this.stopCode, tasksResolved: this.resolvedCount }, 'worker stopped')
    return this.stopCode
  }

  private start(claim: TaskClaim): void {
    const { config, logger } = this.options
    const key = `${claim.taskId}/${claim.runId}`
    const claimedAt = Date.now()
    this.options.metrics?.taskClaimed()
    this.runningInfo.set(key, { taskId: claim.taskId, runId: claim.runId, name: claim.task.metadata?.name ?? '', since: new Date(claimedAt).toISOString() })
    this.writeStatus()
    const taskQueue = new TaskQueue(this.options.queue, claim.taskId, claim.runId, claim.credentials)
    // main.go:733-734: queued at the task's creation, started now
    const task = { taskId: claim.taskId, runId: claim.runId }
    const created = new Date(claim.task.created)
    logWorkerEvent(logger, config, 'taskQueued', Number.isNaN(created.getTime()) ? new Date(0) : created, task)
    logWorkerEvent(logger, config, 'taskStart', new Date(), task)
    const run = runTask({
      claim,
      config,
      executors: this.options.executors,
      features: this.options.features,
      logger,
      shutdownSignal: this.shutdown.signal,
      services: {
        reclaim: (signal) => taskQueue.reclaim(signal),
        resolve: (resolution) => taskQueue.resolve(resolution),
        publisher: new QueueArtifactPublisher(taskQueue, {
          createObjectArtifacts: config.createObjectArtifacts,
          onUploaded: (bytes, seconds) => this.options.metrics?.artifactUploaded(bytes, seconds),
        }),
        credentials: () => taskQueue.currentCredentials(),
        expandScopes: (scopes) => expandScopes(config.rootURL, this.workerCredentials.current(), scopes),
      },
    })
      .then(async ({ taskDir, resolution }) => {
        logWorkerEvent(logger, config, 'taskFinish', new Date(), task) // main.go:755
        this.options.metrics?.taskResolved(resolution, (Date.now() - claimedAt) / 1000)
        const metadata = this.options.metadataFile
        if (metadata) await writeLastTask(metadata, config.rootURL, claim.taskId, claim.runId).catch((err: unknown) => logger.error({ err, file: metadata }, 'could not write the metadata file'))
        if (config.cleanUpTaskDirs && taskDir) await removeTaskDir(taskDir)
      })
      .catch((err: unknown) => logger.error({ err, taskId: claim.taskId }, 'task run crashed'))
      .finally(() => {
        this.running.delete(key)
        this.runningInfo.delete(key)
        this.writeStatus()
        this.resolvedCount++
        this.idleSince = Date.now()
        this.wakeup.notify()
      })
    this.running.set(key, run)
  }
}

/** Free space for unprivileged use on the file system holding `dir`, in MiB (undefined if unknown). */
async function freeMegabytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir)
    return (s.bavail * s.bsize) / (1024 * 1024)
  } catch {
    return undefined
  }
}

/** What an executor sees of the worker: its config and its log, lines tagged with the executor's name. */
function executorHost(config: WorkerConfig, logger: Logger, name: string): ExecutorHost {
  return { config, log: (level, message) => logger[level]({ executor: name }, message) }
}
