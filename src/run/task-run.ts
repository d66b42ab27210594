// One claimed run, start to finish, as one readable function walking the stages of
// DESIGN.md. Every stage honours one AbortSignal whose reason says why (max run time,
// cancelled, worker shutdown); the resolution is decided once, at the end, by resolution.ts.

import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import PQueue from 'p-queue'
import type { Feature, FeatureTable, TaskContext, TaskExecutor, ValidatedPayload } from '../contract/executor.js'
import type { ArtifactPublisher, ArtifactSpec } from '../contract/artifacts.js'
import type { WorkerConfig } from '../config/config.js'
import { FeatureNotOffered, InternalError, MalformedPayload, MaxRunTimeExceeded, WorkerError, WorkerShutdown, type AbortReason } from '../contract/errors.js'
import type { Logger } from '../lib/logger.js'
import { startReclaimer } from './reclaimer.js'
import { uploadsArtifactsAfterAbort, type Resolution } from '../contract/outcome.js'
import { resolve } from './resolution.js'
import { featureNotEnabledProblem } from '../lib/scopes.js'
import { createTaskDir } from '../lib/task-dir.js'
import { TaskLog } from '../lib/task-log.js'
import type { Credentials, Reclaimed, TaskClaim } from '../contract/taskcluster.js'

/** What a run needs from the outside world: the Queue in production, a directory locally. */
export interface RunServices {
  /** Absent when nothing needs reclaiming (`megalodon local`). */
  reclaim?: (signal: AbortSignal) => Promise<Reclaimed>
  resolve(resolution: Resolution): Promise<void>
  publisher: ArtifactPublisher
  credentials(): Credentials
}

export interface RunTaskOptions {
  claim: TaskClaim
  config: WorkerConfig
  executors: readonly TaskExecutor[]
  /** The features this worker offers (live log, …); a name missing here is not offered. */
  features?: FeatureTable
  services: RunServices
  /** Aborted when the worker stops without letting tasks finish (SIGTERM, a crash); the reason says which. */
  shutdownSignal?: AbortSignal
  logger: Logger
  /** Sees every byte of the task log as it is written (stdout for `megalodon local`). */
  logSink?: (chunk: Buffer) => void
}

export interface RunResult {
  resolution: Resolution
  /** The error that decided the resolution, if any. */
  error?: unknown
  taskDir: string
  logPath: string
}

export async function runTask(options: RunTaskOptions): Promise<RunResult> {
  const { claim, config, services, logger } = options
  const log$ = logger.child({ taskId: claim.taskId, runId: claim.runId })
  const controller = new AbortController()
  const signal = controller.signal
  const abort = (reason: AbortReason) => {
    if (!signal.aborted) {
      log$.warn({ reason: reason.code }, 'aborting task')
      controller.abort(reason)
    }
  }
  // The worker's shutdown signal carries why: WorkerShutdown, or InternalError when it crashed.
  const onShutdown = () => {
    const reason: unknown = options.shutdownSignal?.reason
    abort(reason instanceof WorkerShutdown || reason instanceof InternalError ? reason : new WorkerShutdown())
  }
  options.shutdownSignal?.addEventListener('abort', onShutdown, { once: true })
  if (options.shutdownSignal?.aborted) onShutdown()

  // A payload of no known family is still logged and resolved in the first family's format.
  const executor = options.executors.find((e) => e.accepts(claim.task.payload)) ?? options.executors[0]!
  let taskDir: string
  let log: TaskLog
  try {
    taskDir = await createTaskDir(config.tasksDir, claim.taskId, claim.runId)
    const logDir = path.join(taskDir, 'generic-worker')
    await mkdir(logDir, { mode: 0o700 })
    log = await TaskLog.open(path.join(logDir, 'live_backing.log'), executor.logFormat)
  } catch (err) {
    // Without a task directory there is no log to upload, but the claim is still resolved.
    log$.error({ err }, 'could not create the task directory')
    options.shutdownSignal?.removeEventListener('abort', onShutdown)
    const resolution: Resolution = { state: 'exception', reason: 'internal-error' }
    await services.resolve(resolution).catch((e: unknown) => log$.error({ err: e }, 'reporting the resolution failed'))
    return { resolution, taskDir: '', logPath: '' }
  }
  if (options.logSink) log.addSink(options.logSink)

  // The reclaimer runs beside every stage, until the resolution.
  const reclaimer = services.reclaim
    ? startReclaimer({ takenUntil: claim.takenUntil, reclaim: services.reclaim, onLost: abort, onReclaimed: () => log$.debug('reclaimed') })
    : undefined

  // Everything the run publishes is recorded: the chain of trust hashes it afterwards.
  const published: ArtifactSpec[] = []
  const publisher: ArtifactPublisher = {
    publish: async (spec, sig) => {
      await services.publisher.publish(spec, sig)
      published.push(spec)
    },
  }
  const ctx: TaskContext = {
    taskId: claim.taskId,
    runId: claim.runId,
    family: executor.family,
    task: claim.task,
    claim,
    signal,
    log,
    env: {},
    credentials: services.credentials,
    config,
    taskDir,
    publisher,
    published: () => published,
  }

  let firstError: unknown
  const noteError = (err: unknown) => {
    firstError ??= signal.aborted ? signal.reason : err
  }
  let validated: ValidatedPayload<unknown> | undefined
  let prepared: unknown
  let preparedOk = false
  let exitCode: number | undefined
  let startedAt: Date | undefined
  let artifactErrors = 0
  const started: Feature[] = []
  log$.info({ executor: executor.name }, 'task claimed')

  // 1–4: validate, prepare, start features, run.
  try {
    executor.logHeader(ctx)
    if (!executor.accepts(claim.task.payload)) {
      throw new MalformedPayload('the payload is not of a family this worker runs', [
        `This worker runs payloads of these executors only: ${options.executors.map((e) => e.name).join(', ')}`,
      ])
    }
    validated = executor.validatePayload(claim.task, config)
    log$.info('payload valid')
    signal.throwIfAborted()
    prepared = await executor.prepare(ctx, validated.payload)
    preparedOk = true
    for (const { name, required } of executor.features(validated.payload)) {
      const feature = options.features?.[name]?.(ctx, validated)
      if (!feature) {
        if (!required) continue
        throw new FeatureNotOffered(
          name,
          executor.family === 'docker'
            ? `${name} is not enabled on this worker`
            : featureNotEnabledProblem(name, config),
        )
      }
      started.push(feature)
      await feature.start(ctx)
    }
    signal.throwIfAborted()
    const maxRunTime = validated.maxRunTimeSecs
    const timer = setTimeout(() => abort(new MaxRunTimeExceeded(maxRunTime)), maxRunTime * 1000)
    try {
      startedAt = new Date()
      log$.info('commands started')
      exitCode = (await executor.run(ctx, prepared)).exitCode
      log$.info({ exitCode }, 'commands finished')
    } finally {
      clearTimeout(timer)
    }
  } catch (err) {
    noteError(err)
  }
  if (signal.aborted) noteError(signal.reason)

  // 5: collect and upload the task's artifacts (not after a cancel; per family after other aborts).
  const abortReason = signal.aborted ? (signal.reason as WorkerError) : undefined
  const family = executor.family
  if (preparedOk && (!abortReason || uploadsArtifactsAfterAbort(family, abortReason))) {
    try {
      const specs = withoutReserved(await executor.result(ctx, prepared), started, log)
      artifactErrors = specs.filter((s) => s.kind === 'error').length
      await publishAll(publisher, specs, config.uploadConcurrency, (spec) => {
        if (spec.kind === 'error') log.error(`Uploading error artifact ${spec.name} (${spec.reason}): ${spec.message}`)
        else log.info(`Uploading artifact ${spec.name}${spec.kind === 'file' ? ` from file ${spec.path} with content encoding "${spec.contentEncoding}", mime type "${spec.contentType}"` : ''}`)
      })
      log$.info({ artifacts: specs.length, errorArtifacts: artifactErrors }, 'artifacts uploaded')
    } catch (err) {
      log.error(`TASK FAILURE during artifact upload: ${(err as Error).message}`)
      noteError(err)
    }
  }

  // 6–7: stop features in reverse order, clean up; both always run.
  // A feature that fails to stop (chain of trust not uploaded…) fails the run, as upstream.
  for (const feature of started.reverse()) {
    try {
      await feature.stop(ctx)
    } catch (err) {
      log.error(`${feature.name}: ${(err as Error).message}`)
      noteError(err)
    }
  }
  if (preparedOk) {
    try {
      await executor.cleanup(ctx, prepared)
    } catch (err) {
      // A cleanup the task is to blame for (a cache it moved away) decides the resolution.
      if (err instanceof WorkerError) noteError(err)
      log$.warn({ err }, 'executor cleanup failed')
    }
  }

  // 8: footer, close, upload the backing log (and point the live log at it).
  const resolution = resolve(family, { error: firstError, exitCode, retryExitCodes: validated?.retryExitCodes, artifactErrors })
  try {
    executor.logFooter(ctx, { startedAt, finishedAt: new Date(), exitCode, error: firstError })
  } catch (err) {
    log$.error({ err }, 'could not write the log footer')
  }
  await log.close().catch((err: unknown) => log$.error({ err }, 'could not write the task log'))
  if (resolution.state !== 'none') {
    await publishLogs(publisher, log.path, claim, validated?.logs ?? defaultLogNames).catch((err: unknown) =>
      log$.error({ err }, 'could not upload the task log'),
    )
  }

  // 9: resolve, exactly once.
  reclaimer?.stop()
  options.shutdownSignal?.removeEventListener('abort', onShutdown)
  try {
    await services.resolve(resolution)
  } catch (err) {
    log$.error({ err }, 'reporting the resolution failed')
  }
  log$.info({ resolution }, 'task resolved')
  return { resolution, error: firstError, taskDir, logPath: log.path }
}

/** Task artifacts named like one a feature publishes itself are left out, with a warning. */
function withoutReserved(specs: ArtifactSpec[], features: readonly Feature[], log: TaskLog): ArtifactSpec[] {
  const reserved = new Map<string, string>()
  for (const f of features) for (const name of f.reservedArtifacts ?? []) reserved.set(name, f.name)
  return specs.filter((spec) => {
    const owner = reserved.get(spec.name)
    if (owner) log.warn(`Not uploading artifact ${spec.name} from the task: the name is reserved for the ${owner} feature's own artifact`)
    return !owner
  })
}

const defaultLogNames = { live: 'public/logs/live.log', backing: 'public/logs/live_backing.log' }

async function publishAll(
  publisher: ArtifactPublisher,
  specs: ArtifactSpec[],
  concurrency: number,
  announce: (spec: ArtifactSpec) => void,
): Promise<void> {
  const queue = new PQueue({ concurrency })
  let firstError: unknown
  for (const spec of specs) {
    void queue.add(async () => {
      announce(spec)
      try {
        await publisher.publish(spec)
      } catch (err) {
        firstError ??= err
      }
    })
  }
  await queue.onIdle()
  if (firstError !== undefined) throw firstError
}

async function publishLogs(publisher: ArtifactPublisher, logPath: string, claim: TaskClaim, names: { live: string | null; backing: string | null }): Promise<void> {
  if (!names.backing) return
  const expires = claim.task.expires
  await publisher.publish({ kind: 'file', name: names.backing, path: logPath, contentType: 'text/plain; charset=utf-8', contentEncoding: 'gzip', expires })
  if (names.live) await publisher.publish({ kind: 'link', name: names.live, artifact: names.backing, contentType: 'text/plain; charset=utf-8', expires })
}
