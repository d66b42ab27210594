// Validation of a docker-worker payload: the schema, then what this version cannot run yet
// (refused by name, never half-run).

import { posix } from 'node:path'

import type { WorkerConfig } from '../../src/config/config.js'
import { PayloadSchemaInvalid, TaskFailure } from '../../src/contract/errors.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import type { ValidatedPayload } from '../../src/contract/task-context.js'
import { scopeSatisfied } from '../../src/lib/scopes.js'
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

/**
 * `public/logs/live.log` → `public/logs/live_backing.log`, as docker-worker named the backing log
 * (src/features/logs_location.js:13: dir + '/' + name + '_backing' + ext of a POSIX path.parse),
 * so a `log` without a `/` gets a leading slash: `x.log` → `/x_backing.log`.
 */
export function backingLogName(live: string): string {
  const parsed = posix.parse(live)
  return `${parsed.dir}/${parsed.name}_backing${parsed.ext}`
}

/**
 * The log artifacts of a docker payload, valid or not: docker-worker named them in localLiveLog's
 * link step, before the schema check (src/features/logs_location.js:7-15: `payload.log` when truthy).
 * Turned off, by the payload or by the worker (enableLiveLog), the task has no log
 * artifacts at all (src/features/local_live_log.js:42-43; features_test.js "disabled feature
 * defaults"). A `log` that is not a string, which docker-worker's path.parse would throw on, is
 * taken as absent.
 */
export function dockerLogNames(payload: unknown, config: Pick<WorkerConfig, 'enableLiveLog'>): { live: string | null; backing: string | null } {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as { features?: unknown }
  const features = (typeof p.features === 'object' && p.features !== null ? p.features : {}) as Record<string, unknown>
  // a flag the payload gives is taken as it is; else the worker's switch decides (src/task.js:76-78)
  const on = 'localLiveLog' in features ? Boolean(features.localLiveLog) : config.enableLiveLog
  if (!on) return { live: null, backing: null }
  const live = dockerLiveLogName(payload)
  return { live, backing: backingLogName(live) }
}

/** The live log's name: `payload.log` when it is a non-empty string (logs_location.js:10-11), else the default. */
export function dockerLiveLogName(payload: unknown): string {
  const log = (typeof payload === 'object' && payload !== null ? payload : {}) as { log?: unknown }
  return typeof log.log === 'string' && log.log !== '' ? log.log : 'public/logs/live.log'
}

/** docker-worker's features (src/features.js); dind and dockerSave were still listed there, though the schema refuses them. */
const DOCKER_WORKER_FEATURES = ['localLiveLog', 'artifacts', 'chainOfTrust', 'bulkLog', 'taskclusterProxy', 'dind', 'dockerSave', 'interactive', 'allowPtrace']
/**
 * Whether this worker enables a docker-worker feature (docker-worker: `features.<name>.enabled`,
 * config.yml:14-32). bulkLog was off by default there and megalodon has none; dind and dockerSave
 * stay "enabled" as in that config, so the schema refuses them afterwards. interactive alone is
 * judged by its value: docker-worker enabled it by default and megalodon does not, so judged by key
 * it would fail `interactive: false` payloads every default docker-worker ran.
 */
function enabledOnWorker(feature: string, value: unknown, config: WorkerConfig): boolean {
  switch (feature) {
    case 'bulkLog':
      return false
    case 'localLiveLog':
      return config.enableLiveLog
    case 'chainOfTrust':
      return config.enableChainOfTrust
    case 'taskclusterProxy':
      return config.enableTaskclusterProxy
    case 'interactive':
      return config.enableInteractive || value !== true
    default:
      return true
  }
}

/** A feature docker-worker refused while building the task, before anything ran: the run fails. */
export class FeatureRefused extends TaskFailure {}

/**
 * docker-worker built its feature handlers from the payload's `features` keys before it validated
 * anything (src/task.js:57-74,335-341): an unknown key, or a key of a feature the worker does not
 * enable (whatever its value), failed the run (invalid_feature_test.js:23-37, features_test.js:7-33).
 */
function refuseFeatures(payload: unknown, config: WorkerConfig): void {
  const features = (payload as { features?: unknown } | null)?.features
  if (typeof features !== 'object' || features === null) return
  const keys = Object.keys(features)
  const say = (names: string[], what: string) => `${names.join()} ${names.length > 1 ? 'are' : 'is'} ${what}`
  const unknown = keys.filter((k) => !DOCKER_WORKER_FEATURES.includes(k))
  if (unknown.length > 0) throw new FeatureRefused(say(unknown, 'not part of valid features'))
  const disabled = keys.filter((k) => !enabledOnWorker(k, (features as Record<string, unknown>)[k], config))
  if (disabled.length > 0) throw new FeatureRefused(say(disabled, 'not enabled on this worker'))
}

/** A feature whose `link` hook failed: docker-worker aborted the run before validating its payload. */
export class FeaturesNotLinked extends TaskFailure {}

/**
 * allowPtrace's link hook (src/features/allow_ptrace.js:16-23), run after the header and before
 * the schema check (src/task.js:759-791): without `docker-worker:feature:allowPtrace` (no
 * pool-suffixed form) the run fails. The text is abortRun's, wrapping States' error
 * (src/states.js:50-58), whose Error#toString adds the `Error: ` before `Error calling`.
 */
function refusePtrace(task: TaskDefinition): void {
  const features = (task.payload as { features?: unknown } | null)?.features
  if (typeof features !== 'object' || features === null || !(features as Record<string, unknown>).allowPtrace) return
  if (scopeSatisfied(task.scopes, 'docker-worker:feature:allowPtrace')) return
  throw new FeaturesNotLinked(
    "Task was aborted because states could not be created successfully. Error: Error calling 'link' for allowPtrace : Error: Insufficient scopes to use 'allowPtrace' feature.  Try adding docker-worker:feature:allowPtrace to the .scopes array.",
  )
}

export function validateDockerPayload(task: TaskDefinition, config: WorkerConfig): ValidatedPayload<DockerPayload> {
  refuseFeatures(task.payload, config)
  refusePtrace(task)
  // docker-worker validated with ajv 7 and its defaults (see docker-worker-ajv.ts); the defaults
  // are kept apart: the features the payload asks for are read from what the task said
  const withDefaults: unknown = structuredClone(task.payload)
  const schemaError = dockerWorkerSchemaError(withDefaults, dockerWorkerSchemaId(config.rootURL))
  // docker-worker listed these beside the schema's errors (src/util/validate_schema.js:8-28)
  const expiries = artifactExpiryProblems(task.payload, task.expires)
  if (schemaError !== null || expiries.length > 0) throw new PayloadSchemaInvalid([...(schemaError === null ? [] : [schemaError]), ...expiries])
  const payload = structuredClone(task.payload) as DockerPayload
  // a `volume` artifact runs: docker-worker's archive of the path is a directory, so it becomes an
  // error artifact (src/features/artifacts.js:94-117). docker-worker had no ceiling on maxRunTime
  // (its schema: an integer >= 1, tools/d2g/schemas/docker-worker/v1/payload.yml:173-179), so
  // generic-worker's maxTaskRunTime does not apply to docker payloads.
  return { payload, payloadWithDefaults: withDefaults, maxRunTimeSecs: payload.maxRunTime, logs: dockerLogNames(payload, config), retryExitCodes: payload.onExitStatus?.retry ?? [] }
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
