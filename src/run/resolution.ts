// The one place where the outcome of a task run becomes a Queue resolution.
// The two legacy workers disagree on some rows; those rows come from the run's family profile
// (FamilyOutcomes), so this table holds no family literal (tests: test/unit/resolution.test.ts).

import { WorkerError, type WorkerErrorCode } from '../contract/errors.js'
import type { FamilyOutcomes } from '../contract/family.js'
import type { ExceptionReason, Resolution } from '../contract/outcome.js'

export interface RunOutcome {
  /** The first error of the run (setup error, abort reason, upload failure…), if any. */
  error?: unknown
  /** Exit code of the last command that ran, if the task's commands ran at all. */
  exitCode?: number
  /** payload.onExitStatus.retry */
  retryExitCodes?: readonly number[]
  /** Non-optional artifacts that were missing or of the wrong type. */
  artifactErrors?: number
}

const exceptionByCode: Partial<Record<WorkerErrorCode, ExceptionReason>> = {
  MALFORMED_PAYLOAD: 'malformed-payload',
  RESOURCE_UNAVAILABLE: 'resource-unavailable',
  WORKER_SHUTDOWN: 'worker-shutdown',
  INTERNAL_ERROR: 'internal-error',
  CONFIG_INVALID: 'internal-error',
}

export function resolve(rules: FamilyOutcomes, outcome: RunOutcome): Resolution {
  const { error, exitCode } = outcome
  if (error !== undefined) {
    if (!(error instanceof WorkerError)) return { state: 'exception', reason: 'internal-error' }
    switch (error.code) {
      case 'TASK_CANCELLED':
        return { state: 'none' }
      case 'MAX_RUN_TIME_EXCEEDED':
      case 'TASK_FAILURE':
        return { state: 'failed' }
      case 'FEATURE_NOT_OFFERED':
        return rules.featureNotOffered.resolution
      default:
        return { state: 'exception', reason: exceptionByCode[error.code] ?? 'internal-error' }
    }
  }
  if (exitCode !== undefined && exitCode !== 0) {
    if (outcome.retryExitCodes?.includes(exitCode)) return { state: 'exception', reason: 'intermittent-task' }
    return { state: 'failed' }
  }
  if ((outcome.artifactErrors ?? 0) > 0 && rules.missingArtifactFails) return { state: 'failed' }
  return { state: 'completed' }
}

/** The process exit code `megalodon local` uses for a resolution. */
export function localExitCode(resolution: Resolution): number {
  switch (resolution.state) {
    case 'completed':
      return 0
    case 'failed':
      return 1
    default:
      return 2
  }
}

export function describeResolution(resolution: Resolution): string {
  switch (resolution.state) {
    case 'exception':
      return `exception (${resolution.reason})`
    case 'none':
      return 'not resolved (cancelled or resolved elsewhere)'
    default:
      return resolution.state
  }
}
