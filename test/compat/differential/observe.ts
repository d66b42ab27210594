// What one worker did with one task, as the Queue saw it: the resolution, the task log, every
// artifact (name, storage type, content type, encoding, bytes) and the calls made for the task.

import { createHash } from 'node:crypto'
import type { FakeQueue } from '../../helpers/fake-queue/index.js'

export interface ObservedArtifact {
  name: string
  storageType: string
  contentType?: string
  contentEncoding?: string
  /** Text artifacts as text; anything else as its length and sha256. */
  content?: string
  reason?: string
  /** A link's target. */
  artifact?: string
}

export interface Observation {
  resolution: string
  log: string
  artifacts: ObservedArtifact[]
  /** The calls for this task (claimWork polls left out), e.g. `createArtifact public/logs/live.log`. */
  calls: string[]
}

const LOG = 'public/logs/live_backing.log'
const isText = (b: Buffer) => !b.includes(0) && Buffer.from(b.toString('utf8'), 'utf8').equals(b)

/** Calls that are not about one task's artifacts or resolution, but a worker makes for a task. */
const TASK_SIDE_CALLS = new Set(['expandScopes', 'purgeRequests', 'findTask'])

export function observe(fake: FakeQueue, taskId: string, requestsFrom: number, requestsTo: number): Observation {
  const run = fake.state.get(taskId).runs[0]!
  const artifacts: ObservedArtifact[] = []
  let log = ''
  for (const [name, a] of [...fake.artifacts(taskId)].sort(([x], [y]) => x.localeCompare(y))) {
    const o: ObservedArtifact = { name, storageType: a.storageType }
    if (a.contentType !== undefined) o.contentType = a.contentType
    if (a.storageType === 's3' || a.storageType === 'object') o.contentEncoding = a.contentEncoding ?? 'identity'
    if (a.reason !== undefined) o.reason = a.reason
    if (a.artifact !== undefined) o.artifact = a.artifact
    if (a.content) {
      if (name === LOG) log = a.content.toString('utf8')
      else o.content = isText(a.content) ? a.content.toString('utf8') : `${a.content.length} bytes, sha256 ${createHash('sha256').update(a.content).digest('hex')}`
    }
    artifacts.push(o)
  }
  const calls = fake.requests
    .slice(requestsFrom, requestsTo)
    .filter((r) => (r.params[0] === taskId && r.method !== 'createTask' && r.method !== 'cancelTask') || TASK_SIDE_CALLS.has(r.method))
    .map((r) => (r.method === 'createArtifact' || r.method === 's3Put' ? `${r.method} ${decodeURIComponent(r.params[2] ?? '')}` : r.method))
  return { resolution: `${run.state}/${run.reasonResolved ?? '-'}`, log, artifacts, calls }
}
