// generic-worker's exit codes: worker-runner and operators' scripts act on them.
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
  CantGetWorkerStatus: 84,
} as const
