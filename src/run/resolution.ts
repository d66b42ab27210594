// The one place where the outcome of a task run becomes a Queue resolution.
// The two legacy workers disagree on some rows; those rows come from the run's family profile
// (FamilyOutcomes), so this table holds no family literal (tests: test/unit/resolution.test.ts).

import { WorkerError, type WorkerErrorCode } from '../contract/errors.js'
import type { FamilyOutcomes } from '../contract/family.js'
import type { Resolution } from '../contract/outcome.js'

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

/**
 * What each error code resolves as. `featureNotOffered` is the one row the legacy workers
 * disagree on: the run's family profile decides it. A code missing here fails the type check.
 */
export const resolutionByCode = {
  MALFORMED_PAYLOAD: { state: 'exception', reason: 'malformed-payload' },
  RESOURCE_UNAVAILABLE: { state: 'exception', reason: 'resource-unavailable' },
  TASK_FAILURE: { state: 'failed' },
  INTERNAL_ERROR: { state: 'exception', reason: 'internal-error' },
  MAX_RUN_TIME_EXCEEDED: { state: 'failed' },
  // cancelled or resolved elsewhere: the Queue takes no report
  TASK_CANCELLED: { state: 'none' },
  WORKER_SHUTDOWN: { state: 'exception', reason: 'worker-shutdown' },
  CONFIG_INVALID: { state: 'exception', reason: 'internal-error' },
  CONFIG_UNREADABLE: { state: 'exception', reason: 'internal-error' },
  FEATURE_NOT_OFFERED: 'featureNotOffered',
  // only ever thrown at start-up, before any task
  SIGNING_KEY_MISSING: { state: 'exception', reason: 'internal-error' },
} as const satisfies Record<WorkerErrorCode, Resolution | 'featureNotOffered'>

export function resolve(rules: FamilyOutcomes, outcome: RunOutcome): Resolution {
  const { error, exitCode } = outcome
  if (error !== undefined) {
    // anything that is not a WorkerError is a bug in the worker
    if (!(error instanceof WorkerError)) return { state: 'exception', reason: 'internal-error' }
    const row = resolutionByCode[error.code]
    return row === 'featureNotOffered' ? rules.featureNotOffered.resolution : row
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
