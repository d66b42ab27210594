// Validation of a docker-worker payload: the schema, then what this version cannot run yet
// (refused by name, never half-run).

import type { WorkerConfig } from '../../src/config/config.js'
import { MalformedPayload, PayloadSchemaInvalid } from '../../src/contract/errors.js'
import { describeSchemaError } from '../../src/lib/schema-errors.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import type { ValidatedPayload } from '../../src/contract/task-context.js'
import { dockerPayloadValidator } from './schema.js'

export interface DockerPayload {
  image: string | { type: string; name?: string; namespace?: string; path?: string; taskId?: string }
  command?: string[]
  env?: Record<string, string>
  maxRunTime: number
  log?: string
  artifacts?: Record<string, { type: 'file' | 'directory' | 'volume'; path: string; expires?: string }>
  cache?: Record<string, string>
  capabilities?: { privileged?: boolean; disableSeccomp?: boolean; devices?: Record<string, boolean> }
  features?: Record<string, boolean>
  onExitStatus?: { retry?: number[]; purgeCaches?: number[] }
  supersederUrl?: string
}

/** `public/logs/live.log` → `public/logs/live_backing.log`, as docker-worker named the backing log. */
export function backingLogName(live: string): string {
  const slash = live.lastIndexOf('/')
  const dot = live.lastIndexOf('.')
  return dot > slash ? `${live.slice(0, dot)}_backing${live.slice(dot)}` : `${live}_backing`
}

export function validateDockerPayload(task: TaskDefinition, config: WorkerConfig): ValidatedPayload<DockerPayload> {
  const copy: unknown = structuredClone(task.payload)
  const validate = dockerPayloadValidator()
  if (!validate(copy)) {
    throw new PayloadSchemaInvalid((validate.errors ?? []).map((e) => describeSchemaError(e, copy)))
  }
  const payload = copy as DockerPayload
  const problems: string[] = []
  const notYet = (what: string) => problems.push(`${what} is not supported by this version of megalodon yet`)
  for (const [name, a] of Object.entries(payload.artifacts ?? {})) if (a.type === 'volume') notYet(`artifact "${name}" of type volume`)
  if (payload.maxRunTime > config.maxTaskRunTime) problems.push(`maxRunTime ${payload.maxRunTime} is above this worker's maximum of ${config.maxTaskRunTime}`)
  if (problems.length > 0) throw new MalformedPayload('the task payload cannot run on this worker', problems)
  const live = payload.log ?? 'public/logs/live.log'
  return { payload, maxRunTimeSecs: payload.maxRunTime, logs: { live, backing: backingLogName(live) }, retryExitCodes: payload.onExitStatus?.retry ?? [] }
}
