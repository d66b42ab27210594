// One error hierarchy for the whole worker. Every error that can decide a task's resolution
// is a WorkerError with a stable machine code; src/run/resolution.ts maps codes to resolutions,
// and nothing else ever looks at an error's message to decide what to do.

import type { FeatureName } from './feature.js'

/** Every code an error can carry; src/run/resolution.ts and src/worker/exit-codes.ts map each one. */
export const WORKER_ERROR_CODES = [
  'MALFORMED_PAYLOAD',
  'RESOURCE_UNAVAILABLE',
  'TASK_FAILURE',
  'INTERNAL_ERROR',
  'MAX_RUN_TIME_EXCEEDED',
  'TASK_CANCELLED',
  'WORKER_SHUTDOWN',
  'CONFIG_INVALID',
  'CONFIG_UNREADABLE',
  'FEATURE_NOT_OFFERED',
  'SIGNING_KEY_MISSING',
] as const
export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number]

export class WorkerError extends Error {
  readonly code: WorkerErrorCode
  constructor(code: WorkerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** The payload (or the task around it) cannot be run as written: `exception/malformed-payload`. */
export class MalformedPayload extends WorkerError {
  /** One line per problem, already in the legacy worker's wording. */
  readonly problems: string[]
  constructor(message: string, problems: string[] = [], options?: { cause?: unknown }) {
    super('MALFORMED_PAYLOAD', message, options)
    this.problems = problems
  }
}

/**
 * A feature's scopes are not all held as the task lists them. generic-worker then expands the
 * task's `assume:` roles through Auth and checks again (main.go:1219, internal/scopes/scopes.go
 * Satisfies/Expand); the core does the same and validates once more with the expansion.
 */
export class MissingScopes extends MalformedPayload {}

/** The payload fails its family's JSON schema; `problems` are the schema errors in the legacy wording. */
export class PayloadSchemaInvalid extends MalformedPayload {
  constructor(problems: string[]) {
    super('the task payload is invalid', problems)
  }
}

/** Something the task needs from outside is unavailable right now: `exception/resource-unavailable`. */
export class ResourceUnavailable extends WorkerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RESOURCE_UNAVAILABLE', message, options)
  }
}

/**
 * The payload asks for a feature this worker's config does not offer. generic-worker resolves
 * that `exception/malformed-payload`; docker-worker threw it while building the task and
 * reported the run `failed`.
 */
export class FeatureNotOffered extends WorkerError {
  readonly problems: string[]
  constructor(readonly feature: FeatureName, problem: string) {
    super('FEATURE_NOT_OFFERED', problem)
    this.problems = [problem]
  }
}

/** A setup or post-run problem the legacy worker blamed on the task: resolves `failed`. */
export class TaskFailure extends WorkerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TASK_FAILURE', message, options)
  }
}

/**
 * What the task runs in could not be had on this host (a docker image that cannot be pulled or
 * loaded). The legacy worker failed the task; a replay reports it could not run the task.
 */
export class TaskEnvironmentUnavailable extends TaskFailure {}

/**
 * Something after the commands ran (an artifact upload, a feature's own upload) failed, and the
 * legacy worker failed the run for it (docker-worker src/task.js:942-974). The commands' own
 * non-zero exit code still stands in the log footer.
 */
export class PostRunFailure extends TaskFailure {}

/** A bug or an unexpected condition in the worker itself: `exception/internal-error`. */
export class InternalError extends WorkerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INTERNAL_ERROR', message, options)
  }
}

/** The worker configuration is unusable (generic-worker exits 73 for this). */
export class ConfigError extends WorkerError {
  constructor(message: string, code: 'CONFIG_INVALID' | 'CONFIG_UNREADABLE' = 'CONFIG_INVALID') {
    super(code, message)
  }
}

/** The config file cannot be read at all (generic-worker exits 64 for this). */
export class ConfigUnreadable extends ConfigError {
  constructor(message: string) {
    super(message, 'CONFIG_UNREADABLE')
  }
}

/**
 * The chain of trust signing key cannot be read or is not base64: generic-worker's
 * MissingED25519PrivateKey (chain_of_trust_feature.go:84-91), exit 82 (usage_multiuser.go:7).
 */
export class SigningKeyMissing extends WorkerError {
  constructor(detail: string) {
    super('SIGNING_KEY_MISSING', `Missing ED25519 Private Key: ${detail}`)
  }
}

// --- Abort reasons: the only values ever passed to a run's AbortController.abort() ---

/** payload.maxRunTime elapsed. */
export class MaxRunTimeExceeded extends WorkerError {
  constructor(readonly maxRunTimeSecs: number) {
    super('MAX_RUN_TIME_EXCEEDED', 'task aborted - max run time exceeded')
  }
}

/** The Queue answered 409 to a reclaim: the run was cancelled or resolved elsewhere. */
export class TaskCancelled extends WorkerError {
  constructor(message = 'task cancelled or resolved elsewhere (reclaim answered 409)', options?: { cause?: unknown }) {
    super('TASK_CANCELLED', message, options)
  }
}

/** The worker is stopping and will not let the task finish. */
export class WorkerShutdown extends WorkerError {
  constructor(message = 'worker is shutting down') {
    super('WORKER_SHUTDOWN', message)
  }
}

/**
 * A reclaim failed other than with 409, where the family fails the task for it: generic-worker
 * kills the commands, which then count as aborted, `task was aborted` (taskstatus.go:166-173,
 * process/posix.go:33-35).
 */
export class ReclaimFailed extends TaskFailure {
  constructor(options?: { cause?: unknown }) {
    super('task was aborted', options)
  }
}

export type AbortReason = MaxRunTimeExceeded | TaskCancelled | WorkerShutdown | InternalError | ReclaimFailed

export function isWorkerError(err: unknown): err is WorkerError {
  return err instanceof WorkerError
}

/** A short human description of anything thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
