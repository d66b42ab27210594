// The Queue calls a worker makes, each through the one retry helper (exactly one policy), made
// with `apiRequest` (the same URLs, Hawk header and errors as taskcluster-client, without its
// idle cost). Per-task calls use the task credentials, swapped on every reclaim.

import { apiRequest } from './api-request.js'
import { withRetry, type RetryOptions } from './retry.js'
import type { Credentials, Reclaimed, TaskClaim, TaskDefinition, WorkerCredentials } from '../contract/taskcluster.js'
import type { Resolution } from '../contract/outcome.js'

export interface QueueOptions {
  rootUrl: string
  /** Retry policy for every call (tests shorten the delays). */
  retry?: RetryOptions
  /** HTTP timeout per request in ms; claimWork long-polls for 20 s. Default 45 000. */
  timeoutMs?: number
}

const enc = encodeURIComponent

/** One Queue call (no retry here: callers go through withRetry). */
function queueCall(options: QueueOptions, credentials: Credentials, method: 'POST' | 'PUT', path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
  return apiRequest({ rootUrl: options.rootUrl, service: 'queue', method, path, credentials, body, timeoutMs: options.timeoutMs ?? 45_000, signal })
}

interface ClaimWorkResponse {
  tasks: Array<{ status: { taskId: string }; runId: number; task: TaskDefinition; workerGroup: string; workerId: string; takenUntil: string; credentials: Credentials }>
}

/** The calls made with the worker's own credentials. */
export class WorkerQueue {
  constructor(
    private readonly options: QueueOptions,
    /** Read per request: worker-runner and worker-manager replace them while the worker runs. */
    private readonly credentials: WorkerCredentials,
  ) {}

  async claimWork(taskQueueId: string, body: { workerGroup: string; workerId: string; tasks: number }): Promise<TaskClaim[]> {
    const res = (await withRetry(() => queueCall(this.options, this.credentials.current(), 'POST', `/claim-work/${enc(taskQueueId)}`, body), this.options.retry)) as ClaimWorkResponse
    return res.tasks.map((t) => ({
      taskId: t.status.taskId,
      runId: t.runId,
      task: t.task,
      workerGroup: t.workerGroup,
      workerId: t.workerId,
      takenUntil: t.takenUntil,
      credentials: t.credentials,
    }))
  }
}

/** The calls made for one claimed run, with that run's task credentials. */
export class TaskQueue {
  private credentials: Credentials

  constructor(
    readonly options: QueueOptions,
    readonly taskId: string,
    readonly runId: number,
    credentials: Credentials,
  ) {
    this.credentials = credentials
  }

  currentCredentials(): Credentials {
    return this.credentials
  }

  /** `POST|PUT /task/<taskId>/runs/<runId><rest>` with this run's current credentials, retried. */
  private call(method: 'POST' | 'PUT', rest: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const path = `/task/${enc(this.taskId)}/runs/${this.runId}${rest}`
    return withRetry(() => queueCall(this.options, this.credentials, method, path, body, signal), { ...this.options.retry, signal })
  }

  async reclaim(signal?: AbortSignal): Promise<Reclaimed> {
    const res = (await this.call('POST', '/reclaim', undefined, signal)) as { takenUntil: string; credentials: Credentials }
    const reclaimed = { takenUntil: res.takenUntil, credentials: res.credentials }
    this.credentials = reclaimed.credentials
    return reclaimed
  }

  async resolve(resolution: Resolution): Promise<void> {
    switch (resolution.state) {
      case 'completed':
        await this.call('POST', '/completed')
        return
      case 'failed':
        await this.call('POST', '/failed')
        return
      case 'exception':
        await this.call('POST', '/exception', { reason: resolution.reason })
        return
      case 'none':
        return
    }
  }

  async createArtifact(name: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    return (await this.call('POST', `/artifacts/${enc(name)}`, body, signal)) as Record<string, unknown>
  }

  async finishArtifact(name: string, body: { uploadId: string }, signal?: AbortSignal): Promise<void> {
    await this.call('PUT', `/artifacts/${enc(name)}`, body, signal)
  }
}
