// The fake Queue's state and its rules: task and run states, retries, claim expiry,
// artifacts (with the Queue's idempotency rules) and objects.

import { createHash } from 'node:crypto'
import taskcluster from 'taskcluster-client'
import type { TaskDefinition } from '../../../src/contract/taskcluster.js'
import { HttpError } from './auth.js'

export type RunState = 'pending' | 'running' | 'completed' | 'failed' | 'exception'

export interface Run {
  runId: number
  state: RunState
  reasonCreated: string
  reasonResolved?: string
  workerGroup?: string
  workerId?: string
  takenUntil?: string
  scheduled: string
  started?: string
  resolved?: string
}

export interface StoredArtifact {
  name: string
  storageType: 's3' | 'object' | 'reference' | 'link' | 'error'
  contentType?: string
  expires: string
  /** Body bytes exactly as uploaded (still gzip-compressed when contentEncoding is gzip). */
  body?: Buffer
  contentEncoding?: string
  contentLength?: number
  url?: string
  artifact?: string
  reason?: string
  message?: string
  uploadId?: string
  objectName?: string
  present: boolean
}

export interface StoredObject {
  name: string
  projectId: string
  uploadId: string
  expires: string
  body?: Buffer
  contentType?: string
  hashes?: Record<string, string>
  finished: boolean
}

export interface TaskRecord {
  taskId: string
  task: TaskDefinition
  runs: Run[]
  retriesLeft: number
  artifacts: Map<string, StoredArtifact>[]
}

const now = () => new Date().toISOString()

export function taskQueueIdOf(task: TaskDefinition): string {
  return task.taskQueueId ?? `${task.provisionerId}/${task.workerType}`
}

export interface KnownWorker {
  workerGroup: string
  workerId: string
  firstClaim: string
  recentTasks: Array<{ taskId: string; runId: number }>
}

export class QueueState {
  readonly tasks = new Map<string, TaskRecord>()
  readonly objects = new Map<string, StoredObject>()
  /** Workers that ran tasks, per task queue (listWorkers/getWorker). */
  readonly workers = new Map<string, KnownWorker[]>()

  workersOf(taskQueueId: string): KnownWorker[] {
    return this.workers.get(taskQueueId) ?? []
  }

  /** Remember that a worker ran this run (claimWork does it; history seeding too). */
  noteWorkerRun(taskQueueId: string, workerGroup: string, workerId: string, taskId: string, runId: number): void {
    const list = this.workers.get(taskQueueId) ?? this.workers.set(taskQueueId, []).get(taskQueueId)!
    let w = list.find((x) => x.workerGroup === workerGroup && x.workerId === workerId)
    if (!w) list.push((w = { workerGroup, workerId, firstClaim: now(), recentTasks: [] }))
    w.recentTasks.push({ taskId, runId })
  }

  get(taskId: string): TaskRecord {
    const t = this.tasks.get(taskId)
    if (!t) throw new HttpError(404, 'ResourceNotFound', `task ${taskId} not found`)
    this.expireClaims(t)
    return t
  }

  run(taskId: string, runId: number): { record: TaskRecord; run: Run } {
    const record = this.get(taskId)
    const run = record.runs[runId]
    if (!run) throw new HttpError(404, 'ResourceNotFound', `run ${runId} of task ${taskId} not found`)
    return { record, run }
  }

  create(taskId: string, task: TaskDefinition): TaskRecord {
    const existing = this.tasks.get(taskId)
    if (existing) {
      if (JSON.stringify(existing.task.payload) !== JSON.stringify(task.payload)) throw new HttpError(409, 'RequestConflict', `task ${taskId} exists with a different definition`)
      return existing
    }
    // The Queue stores both spellings of the task queue.
    const [provisionerId, workerType] = taskQueueIdOf(task).split('/')
    task = { ...task, taskQueueId: taskQueueIdOf(task), provisionerId, workerType }
    const record: TaskRecord = { taskId, task, runs: [], retriesLeft: task.retries ?? 5, artifacts: [] }
    this.addRun(record, 'scheduled')
    this.tasks.set(taskId, record)
    return record
  }

  private addRun(record: TaskRecord, reasonCreated: string): void {
    record.runs.push({ runId: record.runs.length, state: 'pending', reasonCreated, scheduled: now() })
    record.artifacts.push(new Map())
  }

  status(record: TaskRecord): Record<string, unknown> {
    const { task } = record
    const [provisionerId, workerType] = taskQueueIdOf(task).split('/')
    return {
      taskId: record.taskId,
      provisionerId,
      workerType,
      taskQueueId: taskQueueIdOf(task),
      schedulerId: task.schedulerId ?? '-',
      projectId: task.projectId ?? 'none',
      taskGroupId: task.taskGroupId,
      deadline: task.deadline,
      expires: task.expires,
      retriesLeft: record.retriesLeft,
      state: record.runs.at(-1)?.state ?? 'unscheduled',
      runs: record.runs.map((r) => ({ ...r })),
    }
  }

  /** The claim resolver: runs whose takenUntil passed resolve exception/claim-expired. */
  expireClaims(record: TaskRecord): void {
    const last = record.runs.at(-1)
    if (last?.state === 'running' && last.takenUntil && Date.parse(last.takenUntil) < Date.now()) {
      this.resolveRun(record, last, 'exception', 'claim-expired')
    }
  }

  pendingFor(taskQueueId: string): TaskRecord[] {
    const out: TaskRecord[] = []
    for (const record of this.tasks.values()) {
      this.expireClaims(record)
      if (taskQueueIdOf(record.task) === taskQueueId && record.runs.at(-1)?.state === 'pending' && Date.parse(record.task.deadline) > Date.now()) out.push(record)
    }
    return out
  }

  resolveRun(record: TaskRecord, run: Run, state: RunState, reason: string): void {
    run.state = state
    run.reasonResolved = reason
    run.resolved = now()
    const retryReason = { 'worker-shutdown': 'retry', 'claim-expired': 'retry', 'intermittent-task': 'task-retry' }[reason]
    if (state === 'exception' && retryReason && record.retriesLeft > 0) {
      record.retriesLeft--
      this.addRun(record, retryReason)
    }
  }

  /** Whether artifacts may still be created for this run (running, or exception < 25 min ago). */
  acceptsArtifacts(run: Run): boolean {
    if (run.state === 'running') return true
    return run.state === 'exception' && run.resolved !== undefined && Date.now() - Date.parse(run.resolved) < 25 * 60_000
  }

  /** The Queue's re-creation rule: compatible repeats are fine, anything else is a 409. */
  putArtifact(record: TaskRecord, runId: number, artifact: StoredArtifact): StoredArtifact {
    const artifacts = record.artifacts[runId]!
    const prev = artifacts.get(artifact.name)
    if (prev) {
      const referenceToLink = prev.storageType === 'reference' && (artifact.storageType === 'link' || artifact.storageType === 'reference')
      const same =
        prev.storageType === artifact.storageType &&
        prev.contentType === artifact.contentType &&
        Date.parse(artifact.expires) >= Date.parse(prev.expires) &&
        prev.url === artifact.url &&
        prev.artifact === artifact.artifact &&
        prev.reason === artifact.reason &&
        (prev.storageType === 's3' || prev.storageType === 'object' || prev.message === artifact.message)
      if (!same && !referenceToLink) throw new HttpError(409, 'RequestConflict', `artifact ${artifact.name} already exists with different properties`)
      if (same && (prev.storageType === 's3' || prev.storageType === 'object')) return prev
    }
    artifacts.set(artifact.name, artifact)
    return artifact
  }

  newObject(name: string, projectId: string, expires: string): StoredObject {
    const obj: StoredObject = { name, projectId, uploadId: taskcluster.slugid(), expires, finished: false }
    this.objects.set(name, obj)
    return obj
  }
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex')
}

export function sha512(buf: Buffer): string {
  return createHash('sha512').update(buf).digest('hex')
}
