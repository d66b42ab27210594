// The two interfaces of DESIGN.md: TaskExecutor (one per payload family) and Feature (wraps a
// run, for every executor), plus the TaskContext a run hands to both.

import type { WorkerConfig } from '../config/config.js'
import type { ArtifactPublisher, ArtifactSpec } from './artifacts.js'
import type { PayloadFamily } from './outcome.js'
import type { LogFormat, TaskLog } from '../lib/task-log.js'
import type { OpenTerminal } from './terminal.js'
import type { Credentials, TaskClaim, TaskDefinition } from './taskcluster.js'

export interface TaskContext {
  readonly taskId: string
  readonly runId: number
  /** Which legacy worker's behaviour this run follows. */
  readonly family: PayloadFamily
  readonly task: TaskDefinition
  readonly claim: TaskClaim
  /** Aborted with a reason from src/contract/errors.ts: MaxRunTimeExceeded, TaskCancelled or WorkerShutdown. */
  readonly signal: AbortSignal
  readonly log: TaskLog
  /** Environment for the task; features add to it (TASKCLUSTER_PROXY_URL, …). */
  readonly env: Record<string, string>
  /** The current task credentials (they change on every reclaim). */
  credentials(): Credentials
  readonly config: WorkerConfig
  /** A fresh directory for this run; the task log lives in it too. */
  readonly taskDir: string
  /** Where this run's artifacts go (features publish theirs here too). */
  readonly publisher: ArtifactPublisher
  /** Every artifact this run has published so far, in order (the chain of trust hashes them). */
  published(): readonly ArtifactSpec[]
  /**
   * Facts about where the task ran that the executor vouches for, as the family's chain of
   * trust certificate lists them under `environment` (IP addresses, instance, docker image
   * hash…). Set by the executor in prepare; read by features after the run.
   */
  provenance?: () => Promise<Record<string, unknown>>
  /**
   * How a feature's server is reached from inside the task. Set by an executor whose task does
   * not share the worker's network (a container); absent, the task reaches the worker's loopback.
   */
  reach?: TaskReach
  /** Opens a terminal inside the task's environment (the interactive feature); set by the executor in prepare. */
  openTerminal?: OpenTerminal
  /**
   * Reads a file the task left in its directory with the task's own rights (the multiuser
   * engine reads as the task user), so that a feature publishing it publishes nothing the task
   * could not read itself. Undefined when there is no such file. Set by an executor whose tasks
   * can leave files for the worker.
   */
  readTaskFile?: (relativePath: string, maxBytes: number) => Promise<Buffer | undefined>
}

export interface TaskReach {
  /** The worker-side address to listen on so that the task can connect. */
  listenHost: string
  /** The port to listen on for a named service, when the task expects a fixed one. */
  portFor(service: 'taskcluster'): number | undefined
  /** The URL the task uses for a service listening on `port` at listenHost. */
  urlFor(service: 'taskcluster', port: number): string
}

/** What validation learns about a payload that the core needs, whatever the family. */
export interface ValidatedPayload<P> {
  payload: P
  maxRunTimeSecs: number
  /** Artifact names for the logs; null when the payload turned that log off. */
  logs: { live: string | null; backing: string | null }
  retryExitCodes: number[]
}

/**
 * Makes a feature for one run, or returns undefined when this worker does not offer it (its
 * config turns it off). The worker builds the table; executors only name what a payload asks
 * for, so no executor imports a feature.
 */
export type FeatureFactory = (ctx: TaskContext, payload: ValidatedPayload<unknown>) => Feature | undefined
export type FeatureTable = Partial<Record<string, FeatureFactory>>

export interface Feature {
  readonly name: string
  /** Artifact names this feature publishes itself: a task artifact of the same name is skipped. */
  readonly reservedArtifacts?: readonly string[]
  /** May add env, artifacts, a log sink. */
  start(ctx: TaskContext): Promise<void>
  /** Always called once start was called, even after failure or abort. */
  stop(ctx: TaskContext): Promise<void>
}

export interface RunSummary {
  /** Set once the task's commands began (the "Task Starting" line was written). */
  startedAt?: Date
  finishedAt: Date
  exitCode?: number
  /** The first error of the run, if any. */
  error?: unknown
}

export interface TaskExecutor<P = unknown, Prepared = unknown> {
  readonly name: string
  readonly family: PayloadFamily
  /** How worker lines look in this family's task log. */
  readonly logFormat: LogFormat
  /** Whether this payload is of this executor's family (shape only, not validity). */
  accepts(payload: unknown): boolean
  /** Pure; throws MalformedPayload with every problem. */
  validatePayload(task: TaskDefinition, config: WorkerConfig): ValidatedPayload<P>
  /**
   * The features (keys of the FeatureTable) this payload asks for. `required`: the payload asked
   * explicitly, so a worker that does not offer it must refuse the task; otherwise the feature
   * is on by default and simply left out where the worker does not offer it (the live log).
   */
  features(payload: P): Array<{ name: string; required: boolean }>
  prepare(ctx: TaskContext, payload: P): Promise<Prepared>
  run(ctx: TaskContext, prepared: Prepared): Promise<{ exitCode: number }>
  result(ctx: TaskContext, prepared: Prepared): Promise<ArtifactSpec[]>
  cleanup(ctx: TaskContext, prepared: Prepared): Promise<void>
  /** Once when the worker starts: clean up what a previous run of this worker left (optional). */
  startup?(config: WorkerConfig, warn: (message: string) => void): Promise<void>
  /**
   * Between tasks, when tasksDir has less than requiredDiskSpaceMegabytes free: delete what this
   * executor keeps for later tasks and no running task uses (least recently used first) until
   * `enough()` says so or nothing is left to delete (optional).
   */
  collectGarbage?(config: WorkerConfig, enough: () => Promise<boolean>, log: (message: string) => void): Promise<void>
  /** Log lines before validation (worker settings, task id). */
  logHeader(ctx: TaskContext): void
  /** Log lines at the very end (duration, the error that decided the resolution). */
  logFooter(ctx: TaskContext, summary: RunSummary): void
}
