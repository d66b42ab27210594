// A narrow wrapper over taskcluster-client's Queue: the calls a worker makes, each through the
// one retry helper (taskcluster-client's own retries are turned off so there is exactly one
// policy). Per-task calls use the task credentials, swapped on every reclaim.

import taskcluster, { type Queue } from 'taskcluster-client'
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

function client(options: QueueOptions, credentials: Credentials): Queue {
  return new taskcluster.Queue({
    rootUrl: options.rootUrl,
    credentials,
    retries: 0,
    timeout: options.timeoutMs ?? 45_000,
  })
}

/** The calls made with the worker's own credentials. */
export class WorkerQueue {
  constructor(
    private readonly options: QueueOptions,
    /** Read per request: worker-runner and worker-manager replace them while the worker runs. */
    private readonly credentials: WorkerCredentials,
  ) {}

  async claimWork(taskQueueId: string, body: { workerGroup: string; workerId: string; tasks: number }): Promise<TaskClaim[]> {
    const res = await withRetry(() => client(this.options, this.credentials.current()).claimWork(taskQueueId, body), this.options.retry)
    return res.tasks.map((t) => {
      const status = t.status as { taskId: string }
      return {
        taskId: status.taskId,
        runId: t.runId as number,
        task: t.task as TaskDefinition,
        workerGroup: t.workerGroup as string,
        workerId: t.workerId as string,
        takenUntil: t.takenUntil as string,
        credentials: t.credentials as Credentials,
      }
    })
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

  private call<T>(fn: (q: Queue) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(() => fn(client(this.options, this.credentials)), { ...this.options.retry, signal })
  }

  async reclaim(signal?: AbortSignal): Promise<Reclaimed> {
    const res = await this.call((q) => q.reclaimTask(this.taskId, this.runId), signal)
    const reclaimed = { takenUntil: res.takenUntil as string, credentials: res.credentials as Credentials }
    this.credentials = reclaimed.credentials
    return reclaimed
  }

  async resolve(resolution: Resolution): Promise<void> {
    switch (resolution.state) {
      case 'completed':
        await this.call((q) => q.reportCompleted(this.taskId, this.runId))
        return
      case 'failed':
        await this.call((q) => q.reportFailed(this.taskId, this.runId))
        return
      case 'exception':
        await this.call((q) => q.reportException(this.taskId, this.runId, { reason: resolution.reason }))
        return
      case 'none':
        return
    }
  }

  createArtifact(name: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    return this.call((q) => q.createArtifact(this.taskId, this.runId, name, body), signal)
  }

  finishArtifact(name: string, body: { uploadId: string }, signal?: AbortSignal): Promise<void> {
    return this.call((q) => q.finishArtifact(this.taskId, this.runId, name, body), signal)
  }
}
