// What a run ends as: the Queue's resolutions.

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
