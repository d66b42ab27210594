// Shapes shared across the core. Taskcluster's own JSON shapes keep their field names.

export interface Credentials {
  clientId: string
  accessToken: string
  certificate?: string
}

export interface TaskDefinition {
  provisionerId?: string
  workerType?: string
  taskQueueId?: string
  schedulerId?: string
  projectId?: string
  taskGroupId: string
  dependencies?: string[]
  routes?: string[]
  priority?: string
  retries?: number
  created: string
  deadline: string
  expires: string
  scopes: string[]
  payload: unknown
  metadata?: { name?: string; description?: string; owner?: string; source?: string }
  tags?: Record<string, string>
  extra?: Record<string, unknown>
}

/** One claimed run, as claimWork returned it (plus the fields reclaims update). */
export interface TaskClaim {
  taskId: string
  runId: number
  task: TaskDefinition
  workerGroup: string
  workerId: string
  takenUntil: string
  credentials: Credentials
}

export interface Reclaimed {
  takenUntil: string
  credentials: Credentials
}

/**
 * The worker's own credentials (not a task's): one object owns them, so who may change them is
 * visible in the signatures. worker-runner's new-credentials and worker-manager re-registration
 * replace them; the Queue client and the purge-cache client read the current ones per request.
 */
export interface WorkerCredentials {
  current(): Credentials
  replace(credentials: Credentials): void
}
