// What a run ends as: the Queue resolutions and the payload families whose rules decide them.

import type { WorkerError } from './errors.js'

export type PayloadFamily = 'generic' | 'docker'

export type ExceptionReason =
  | 'malformed-payload'
  | 'resource-unavailable'
  | 'internal-error'
  | 'intermittent-task'
  | 'worker-shutdown'

export type Resolution =
  | { state: 'completed' }
  | { state: 'failed' }
  | { state: 'exception'; reason: ExceptionReason }
  /** The run was cancelled or resolved elsewhere: report nothing. */
  | { state: 'none' }

/**
 * Whether the task's own artifacts are still uploaded after the run was aborted for this reason.
 * Logs are always uploaded (except after cancellation, when the Queue no longer accepts them).
 */
export function uploadsArtifactsAfterAbort(family: PayloadFamily, reason: WorkerError): boolean {
  if (reason.code === 'TASK_CANCELLED') return false
  // docker-worker did not upload artifacts after a timeout; generic-worker's artifact step
  // runs whatever stopped the commands.
  if (family === 'docker') return false
  return true
}

