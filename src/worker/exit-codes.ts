// generic-worker's exit codes: worker-runner and operators' scripts act on them.

import { WorkerError, type WorkerErrorCode } from '../contract/errors.js'

export const ExitCode = {
  TasksComplete: 0,
  CantLoadConfig: 64,
  IdleTimeout: 68,
  InternalError: 69,
  WorkerManagerShutdown: 70,
  WorkerStopped: 71, // SIGINT: running tasks were allowed to finish
  WorkerShutdown: 72, // graceful termination (SIGTERM aborts running tasks)
  InvalidConfig: 73,
  CantCreateEd25519Keypair: 75,
  CantSecureConfig: 77, // multiuser: the config file cannot be made the worker's, mode 0600 (usage_multiuser.go:6)
  CantConnectProtocolPipe: 78, // --worker-runner-protocol-pipe cannot be opened
  MissingEd25519PrivateKey: 82, // usage_multiuser.go:7
  CantGetWorkerStatus: 84,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * The process exit code for an error that stops the worker: the twin of the resolution table
 * (src/run/resolution.ts). A code missing here fails the type check.
 */
export const exitCodeByCode = {
  CONFIG_UNREADABLE: ExitCode.CantLoadConfig,
  CONFIG_INVALID: ExitCode.InvalidConfig,
  MALFORMED_PAYLOAD: ExitCode.InternalError,
  RESOURCE_UNAVAILABLE: ExitCode.InternalError,
  TASK_FAILURE: ExitCode.InternalError,
  INTERNAL_ERROR: ExitCode.InternalError,
  MAX_RUN_TIME_EXCEEDED: ExitCode.InternalError,
  TASK_CANCELLED: ExitCode.InternalError,
  WORKER_SHUTDOWN: ExitCode.WorkerShutdown,
  FEATURE_NOT_OFFERED: ExitCode.InternalError,
  SIGNING_KEY_MISSING: ExitCode.MissingEd25519PrivateKey,
} as const satisfies Record<WorkerErrorCode, ExitCodeValue>

/** Anything that is not a WorkerError is a bug: exit 69 (internal error). */
export function exitCodeFor(err: unknown): ExitCodeValue {
  return err instanceof WorkerError ? exitCodeByCode[err.code] : ExitCode.InternalError
}
