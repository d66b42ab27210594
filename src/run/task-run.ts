// One claimed run, start to finish, as one readable function walking the stages of
// ARCHITECTURE.md. Every stage honours one AbortSignal whose reason says why (max run time,
// cancelled, worker shutdown); the resolution is decided once, at the end, by resolution.ts.

import { jsonDeeperThan, MAX_JSON_DEPTH } from '../lib/json-depth.js'
import { setLongTimeout } from '../lib/long-timeout.js'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { ArtifactPublisher, ArtifactSpec } from '../contract/artifacts.js'
import type { TaskExecutor } from '../contract/executor.js'
import type { Feature, FeatureTable } from '../contract/feature.js'
import type { Resolution } from '../contract/outcome.js'
import type { TaskContext, ValidatedPayload } from '../contract/task-context.js'
import type { Credentials, Reclaimed, TaskClaim } from '../contract/taskcluster.js'
import { InternalError, MalformedPayload, MaxRunTimeExceeded, PostRunFailure, ReclaimFailed, TaskFailure, WorkerError, WorkerShutdown, type AbortReason } from '../contract/errors.js'
import type { WorkerConfig } from '../config/config.js'
import type { Logger } from '../lib/logger.js'
import { createTaskDir } from '../lib/task-dir.js'
import { TaskLog } from '../lib/task-log.js'
import { publishAll, publishLogs } from './publish.js'
import { startReclaimer } from './reclaimer.js'
import { resolve } from './resolution.js'
import { startFeatures, stopFeatures, withoutReserved } from './run-features.js'
import { unwind } from './undo.js'
import { validateWithRoles, type ScopeExpander } from './validate.js'

/** What a run needs from the outside world: the Queue in production, a directory locally. */
export interface RunServices {
  /** Absent when nothing needs reclaiming (`megalodon local`). */
  reclaim?: (signal: AbortSignal) => Promise<Reclaimed>
  resolve(resolution: Resolution): Promise<void>
  publisher: ArtifactPublisher
  credentials(): Credentials
  /**
   * auth.expandScopes with the worker's own credentials (generic-worker main.go:1219 passes
   * config.Credentials()); absent where there is no Auth service (`megalodon local`), and then
   * roles are not expanded.
   */
  expandScopes?: ScopeExpander
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
  const workerLog = logger.child({ taskId: claim.taskId, runId: claim.runId })
  const controller = new AbortController()
  const signal = controller.signal
  const abort = (reason: AbortReason) => {
    if (!signal.aborted) {
      workerLog.warn({ reason: reason.code }, 'aborting task')
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
  const executor = options.executors.find((e) => e.profile.accepts(claim.task.payload, options.config)) ?? options.executors[0]!
  const { profile } = executor
  let taskDir: string
  let taskLog: TaskLog
  try {
    taskDir = await createTaskDir(config.tasksDir, claim.taskId, claim.runId)
    const logDir = path.join(taskDir, 'generic-worker')
    await mkdir(logDir, { mode: 0o700 })
    taskLog = await TaskLog.open(path.join(logDir, 'live_backing.log'), profile.log.format)
  } catch (err) {
    // Without a task directory there is no log to upload, but the claim is still resolved.
    workerLog.error({ err }, 'could not create the task directory')
    options.shutdownSignal?.removeEventListener('abort', onShutdown)
    const resolution: Resolution = { state: 'exception', reason: 'internal-error' }
    await services.resolve(resolution).catch((e: unknown) => workerLog.error({ err: e }, 'reporting the resolution failed'))
    return { resolution, taskDir: '', logPath: '' }
  }
  if (options.logSink) taskLog.addSink(options.logSink)

  // Every feature whose start was called, in order; each hears of reclaims, and is stopped.
  const started: Feature[] = []
  // The reclaimer runs beside every stage, until the resolution.
  const reclaimer = services.reclaim
    ? startReclaimer({
        takenUntil: claim.takenUntil,
        reclaim: services.reclaim,
        onLost: (reason) => abort(reason instanceof InternalError && profile.outcomes.reclaimFailureFails ? new ReclaimFailed({ cause: reason }) : reason),
        onReclaimed: (reclaimed) => {
          workerLog.debug('reclaimed')
          for (const feature of started) feature.reclaimed?.(ctx, reclaimed)
        },
        ...(profile.outcomes.reclaimDelayMs ? { delayMs: (ms: number) => profile.outcomes.reclaimDelayMs!(ms) } : {}),
      })
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
    profile,
    task: claim.task,
    claim,
    signal,
    log: taskLog,
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
  let prepared: { run: unknown } | undefined
  let exitCode: number | undefined
  let startedAt: Date | undefined
  let artifactErrors = 0
  const failedArtifacts: Array<{ reason: string; message: string }> = []
  // What prepare made, undone after the features stop whatever happened.
  const undo = new AsyncDisposableStack()
  workerLog.info({ executor: executor.name }, 'task claimed')

  // 1–4: validate, prepare, start features, run.
  const runStartedAt = new Date()
  try {
    profile.log.header(ctx)
    if (!profile.accepts(claim.task.payload, config)) {
      throw new MalformedPayload('the payload is not of a family this worker runs', [
        `This worker runs payloads of these executors only: ${options.executors.map((e) => e.name).join(', ')}`,
      ])
    }
    // deeper than Go's encoding/json accepts: refused before anything walks it recursively (L6)
    if (jsonDeeperThan(claim.task.payload)) throw new MalformedPayload('the task payload cannot be read', [`the payload nests deeper than ${MAX_JSON_DEPTH} levels`])
    if (profile.liveLogBeforeValidation) {
      // started with the names any payload has, valid or not; validation gives the same ones
      const logs = profile.log.unvalidatedLogs(claim.task.payload, config)
      if (logs.live) await startFeatures(ctx, [{ name: 'liveLog', required: false }], options.features, { payload: claim.task.payload, logs, maxRunTimeSecs: 0, retryExitCodes: [] }, started)
    }
    validated = await validateWithRoles(profile, claim.task, config, services.expandScopes)
    if (validated.payloadWithDefaults !== undefined) ctx.validatedTask = { ...claim.task, payload: validated.payloadWithDefaults }
    workerLog.info('payload valid')
    signal.throwIfAborted()
    const requests = profile.requestedFeatures(validated.payload).filter((r) => !started.some((f) => f.name === r.name))
    const early = (r: { name: string }) => profile.featuresBeforePrepare?.some((n) => n === r.name) === true
    await startFeatures(ctx, requests.filter(early), options.features, validated, started)
    prepared = { run: await executor.prepare(ctx, validated.payload, undo) }
    await startFeatures(ctx, requests.filter((r) => !early(r)), options.features, validated, started)
    signal.throwIfAborted()
    const maxRunTime = validated.maxRunTimeSecs
    // maxRunTime may exceed setTimeout's 2^31-1 ms once maxTaskRunTime is raised (L5)
    const timer = setLongTimeout(() => abort(new MaxRunTimeExceeded(maxRunTime)), maxRunTime * 1000)
    try {
      startedAt = new Date()
      workerLog.info('commands started')
      exitCode = (await executor.run(ctx, prepared.run)).exitCode
      workerLog.info({ exitCode }, 'commands finished')
    } finally {
      timer.clear()
    }
  } catch (err) {
    noteError(err)
  }
  if (signal.aborted) noteError(signal.reason)

  // 5: collect and upload the task's artifacts (not after a cancel; per family after other aborts).
  const abortReason = signal.aborted ? (signal.reason as AbortReason) : undefined
  if (prepared && (!abortReason || profile.outcomes.uploadsArtifactsAfter(abortReason))) {
    try {
      const specs = withoutReserved(await executor.result(ctx, prepared.run), started, (m) => taskLog.warn(m))
      // an optional artifact's error artifact is uploaded but fails nothing
      artifactErrors = specs.filter((s) => s.kind === 'error' && s.optional !== true).length
      const uploadFailures: Array<{ name: string; message: string }> = []
      const uploadFailure = profile.outcomes.uploadFailure
      // the failure as the Queue or the transport gave it, not as the publisher words it for generic-worker's footer
      const rawMessage = (err: unknown) => ((err as Error).cause instanceof Error ? ((err as Error).cause as Error) : (err as Error)).message
      const noteFailure = (spec: ArtifactSpec, err: unknown) => void uploadFailures.push({ name: spec.name, message: rawMessage(err) })
      await publishAll(publisher, specs, config.uploadConcurrency, (spec) => {
        if (spec.kind === 'error' && spec.optional !== true) failedArtifacts.push({ reason: spec.reason, message: spec.message })
        if (profile.log.quietUploads) return
        if (profile.log.artifact) profile.log.artifact(taskLog, spec)
        else if (spec.kind === 'error') taskLog.error(`Uploading error artifact ${spec.name} (${spec.reason}): ${spec.message}`)
        else taskLog.info(`Uploading artifact ${spec.name}${spec.kind === 'file' ? ` from file ${spec.path} with content encoding "${spec.contentEncoding}", mime type "${spec.contentType}"` : ''}`)
      }, noteFailure).catch((err: unknown) => {
        if (!uploadFailure) throw err
        for (const line of uploadFailure.lines(uploadFailures)) taskLog.error(line)
        throw new PostRunFailure(`uploading artifacts failed: ${(err as Error).message}`, { cause: err })
      })
      workerLog.info({ artifacts: specs.length, errorArtifacts: artifactErrors }, 'artifacts uploaded')
    } catch (err) {
      // a family that writes its own artifact lines has the error in its footer alone
      // (generic-worker: artifact_feature.go:144-146 adds it to the run's errors, unlogged);
      // a PostRunFailure's lines were written by the family's uploadFailure
      if (!profile.log.artifact && !(err instanceof PostRunFailure)) taskLog.error(`TASK FAILURE during artifact upload: ${(err as Error).message}`)
      noteError(err)
    }
  }

  // 6–7: stop features in reverse order, then undo what prepare made; both always run.
  // A feature that fails to stop (chain of trust not uploaded…) fails the run, as upstream.
  await stopFeatures(ctx, started, (err, feature) => {
    taskLog.error(`${feature.name}: ${(err as Error).message}`)
    noteError(profile.outcomes.featureStopFailureFails ? new PostRunFailure(`${feature.name}: ${(err as Error).message}`, { cause: err }) : err)
  })
  for (const err of await unwind(undo)) {
    // An undo the task is to blame for (a cache it moved away) decides the resolution.
    if (err instanceof WorkerError) noteError(err)
    workerLog.warn({ err }, 'undoing the task environment failed')
  }

  // 8: footer, close, what features do with the whole log, upload the backing log (and point
  // the live log at it).
  // Output the log could not take (a full disk) is never reported as a completed run (L4):
  // upstream's commands write to the log file themselves and meet the write error; here they
  // write to a pipe, so the worker is the one that must not pass the loss over in silence.
  await taskLog.sync().catch((err: unknown) => {
    workerLog.error({ err }, 'the task log could not be written')
    noteError(new TaskFailure(`the task log could not be written: ${(err as Error).message}`, { cause: err }))
  })
  try {
    profile.log.footer(ctx, { startedAt, runStartedAt, finishedAt: new Date(), exitCode, error: firstError, failedArtifacts })
  } catch (err) {
    workerLog.error({ err }, 'could not write the log footer')
  }
  await taskLog.close().catch((err: unknown) => workerLog.error({ err }, 'could not write the task log'))
  for (const feature of started) {
    if (!feature.afterLog) continue
    await feature.afterLog(ctx).catch((err: unknown) => {
      // the log is closed: the worker's own log says why (docker-worker src/task.js:961-974)
      workerLog.error({ err, feature: feature.name }, 'feature failed after the log closed')
      noteError(profile.outcomes.featureStopFailureFails ? new PostRunFailure(`${feature.name}: ${(err as Error).message}`, { cause: err }) : err)
    })
  }
  let resolution = resolve(profile.outcomes, { error: firstError, exitCode, retryExitCodes: validated?.retryExitCodes, artifactErrors })
  if (resolution.state !== 'none') {
    await publishLogs(publisher, taskLog.path, claim, validated?.logs ?? profile.log.unvalidatedLogs(claim.task.payload, config)).catch((err: unknown) => {
      workerLog.error({ err }, 'could not upload the task log')
      // the run's first error, if it is the only one (generic-worker: backing_log_feature.go:80, livelog_feature.go:137)
      if (profile.outcomes.logUploadDecides && resolution.state === 'completed') resolution = resolve(profile.outcomes, { error: err })
    })
  }

  // 9: resolve, exactly once.
  reclaimer?.stop()
  options.shutdownSignal?.removeEventListener('abort', onShutdown)
  try {
    await services.resolve(resolution)
  } catch (err) {
    workerLog.error({ err }, 'reporting the resolution failed')
  }
  workerLog.info({ resolution }, 'task resolved')
  return { resolution, error: firstError, taskDir, logPath: taskLog.path }
}
