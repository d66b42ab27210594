// Validation of a docker-worker payload: the schema, then what this version cannot run yet
// (refused by name, never half-run).

import type { WorkerConfig } from '../../src/config/config.js'
import { MalformedPayload, PayloadSchemaInvalid, TaskFailure } from '../../src/contract/errors.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import type { ValidatedPayload } from '../../src/contract/task-context.js'
import { dockerWorkerSchemaError, dockerWorkerSchemaId } from './docker-worker-ajv.js'

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

/** docker-worker's features (src/features.js); dind and dockerSave were still listed there, though the schema refuses them. */
const DOCKER_WORKER_FEATURES = ['localLiveLog', 'artifacts', 'chainOfTrust', 'bulkLog', 'taskclusterProxy', 'dind', 'dockerSave', 'interactive', 'allowPtrace']
/** Features docker-worker had that no megalodon worker enables (bulkLog was off in docker-worker's default config.yml:21-22). */
const NEVER_ENABLED = ['bulkLog']

/** A feature docker-worker refused while building the task, before anything ran: the run fails. */
export class FeatureRefused extends TaskFailure {}

/**
 * docker-worker built its feature handlers from the payload's `features` keys before it validated
 * anything (src/task.js:57-74,335-341): an unknown key, or a key of a feature the worker does not
 * enable (whatever its value), failed the run (invalid_feature_test.js:23-37, features_test.js:7-33).
 */
function refuseFeatures(payload: unknown): void {
  const features = (payload as { features?: unknown } | null)?.features
  if (typeof features !== 'object' || features === null) return
  const keys = Object.keys(features)
  const say = (names: string[], what: string) => `${names.join()} ${names.length > 1 ? 'are' : 'is'} ${what}`
  const unknown = keys.filter((k) => !DOCKER_WORKER_FEATURES.includes(k))
  if (unknown.length > 0) throw new FeatureRefused(say(unknown, 'not part of valid features'))
  const disabled = keys.filter((k) => NEVER_ENABLED.includes(k))
  if (disabled.length > 0) throw new FeatureRefused(say(disabled, 'not enabled on this worker'))
}

export function validateDockerPayload(task: TaskDefinition, config: WorkerConfig): ValidatedPayload<DockerPayload> {
  refuseFeatures(task.payload)
  // docker-worker validated with ajv 7 and its defaults (see docker-worker-ajv.ts); the defaults
  // are kept apart: the features the payload asks for are read from what the task said
  const withDefaults: unknown = structuredClone(task.payload)
  const schemaError = dockerWorkerSchemaError(withDefaults, dockerWorkerSchemaId(config.rootURL))
  // docker-worker listed these beside the schema's errors (src/util/validate_schema.js:8-28)
  const expiries = artifactExpiryProblems(task.payload, task.expires)
  if (schemaError !== null || expiries.length > 0) throw new PayloadSchemaInvalid([...(schemaError === null ? [] : [schemaError]), ...expiries])
  const payload = structuredClone(task.payload) as DockerPayload
  const problems: string[] = []
  // a `volume` artifact runs: docker-worker's archive of the path is a directory, so it becomes an
  // error artifact (src/features/artifacts.js:94-117)
  if (payload.maxRunTime > config.maxTaskRunTime) problems.push(`maxRunTime ${payload.maxRunTime} is above this worker's maximum of ${config.maxTaskRunTime}`)
  if (problems.length > 0) throw new MalformedPayload('the task payload cannot run on this worker', problems)
  const live = payload.log ?? 'public/logs/live.log'
  return { payload, payloadWithDefaults: withDefaults, maxRunTimeSecs: payload.maxRunTime, logs: { live, backing: backingLogName(live) }, retryExitCodes: payload.onExitStatus?.retry ?? [] }
}

/**
 * An artifact may not outlive its task: docker-worker refused the payload before running
 * (src/util/validate_schema.js:14-26), printing both dates as JavaScript's Date#toString.
 */
function artifactExpiryProblems(payload: unknown, taskExpires: string): string[] {
  const artifacts = (payload as { artifacts?: unknown } | null)?.artifacts
  if (typeof artifacts !== 'object' || artifacts === null) return []
  const taskExpiration = new Date(taskExpires)
  const problems: string[] = []
  for (const [name, a] of Object.entries(artifacts as Record<string, unknown>)) {
    const expires = (a as { expires?: unknown } | null)?.expires
    if (typeof expires !== 'string' || expires === '') continue
    const artifactExpiration = new Date(expires)
    if (artifactExpiration.getTime() > taskExpiration.getTime()) {
      problems.push(`Artifact expiration for '${name}' must not be greater than task expiration. Artifact expiration is '${String(artifactExpiration)}' but task expiration is '${String(taskExpiration)}'`)
    }
  }
  return problems
}
