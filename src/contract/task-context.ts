// What one run hands to its executor and its features: who the task is, where it runs, its
// log, its environment and where its artifacts go. The core builds it; the executor fills in,
// during prepare, how features reach into the task (reach, openTerminal, readTaskFile,
// provenance).

import type { WorkerConfig } from '../config/config.js'
import type { TaskLog } from '../lib/task-log.js'
import type { ArtifactPublisher, ArtifactSpec } from './artifacts.js'
import type { FamilyProfile } from './family.js'
import type { Credentials, TaskClaim, TaskDefinition } from './taskcluster.js'
import type { OpenTerminal } from './terminal.js'

export interface TaskContext {
  readonly taskId: string
  readonly runId: number
  /** Which legacy worker's rules this run follows (its payload family). */
  readonly profile: FamilyProfile
  readonly task: TaskDefinition
  readonly claim: TaskClaim
  /** Aborted with an AbortReason (src/contract/errors.ts): why the run was stopped. */
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
  /** The task as the legacy validator left it (schema defaults in its payload), once validated. */
  validatedTask?: TaskDefinition
  /**
   * How a feature's server is reached from inside the task. Set by an executor whose task does
   * not share the worker's network (a container); absent, the task reaches the worker's loopback.
   */
  reach?: TaskReach
  /**
   * The uid the task's processes run as when it is not the worker's (multiuser engine): a
   * feature's server then admits only that user and root, as upstream's taskcluster-proxy
   * `--allowed-user` does. Set by the executor in prepare.
   */
  taskUid?: number
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
  /** The payload as the legacy validator left it (schema defaults filled in), when it differs. */
  payloadWithDefaults?: unknown
  maxRunTimeSecs: number
  /** Artifact names for the logs; null when the payload turned that log off. */
  logs: { live: string | null; backing: string | null }
  retryExitCodes: number[]
}

export interface RunSummary {
  /** Set once the task's commands began (the "Task Starting" line was written). */
  startedAt?: Date
  /** When the run began, before the header was written (docker-worker's taskStart). */
  runStartedAt?: Date
  finishedAt: Date
  exitCode?: number
  /** The first error of the run, if any. */
  error?: unknown
  /** The non-optional error artifacts the run uploaded (missing or wrong-kind paths), in upload order. */
  failedArtifacts?: ReadonlyArray<{ reason: string; message: string }>
}
