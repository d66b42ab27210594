// Validation of a generic-worker payload: the schema, then the rules generic-worker checks
// beyond it (maxTaskRunTime, artifact expiry), then what megalodon cannot run yet — a
// payload asking for that is refused by name, never silently half-run.

import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import type { ValidateFunction } from 'ajv'
import type { WorkerConfig } from '../../src/config/config.js'
import { MalformedPayload, MissingScopes, PayloadSchemaInvalid } from '../../src/contract/errors.js'
import { describeSchemaError } from '../../src/lib/schema-errors.js'
import { gojsonschemaErrors, UnsupportedSchema } from '../../src/lib/gojsonschema-walk.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import type { ValidatedPayload } from '../../src/contract/task-context.js'
import { isCache, type Mount } from './mounts/content.js'
import { parseGroupFile } from './group-file.js'
import { currentPlatform } from './platform.js'
import { multiuserPayloadValidator, payloadValidator, payloadDocumentFor, windowsPayloadValidator } from './schema.js'
import { featureNotEnabledProblem, missingScopeAlternativesProblem } from '../../src/lib/scopes.js'

/**
 * A task's feature scope checks: against `held` (its scopes, or their expansion through Auth),
 * worded with the task's own scopes as main.go:1227 prints them; remembers whether any failed.
 */
class ScopeChecks {
  refused = false
  constructor(
    private readonly taskScopes: readonly string[],
    private readonly held: readonly string[],
  ) {}

  /** `needed`: scopes all required; or, as scopes.Required, alternatives any one of which suffices. */
  problem(feature: string, needed: readonly string[] | { anyOf: ReadonlyArray<readonly string[]> }): string | undefined {
    const alternatives = 'anyOf' in needed ? needed.anyOf : [[...new Set(needed)]]
    const problem = missingScopeAlternativesProblem(feature, this.taskScopes, alternatives, this.held)
    if (problem) this.refused = true
    return problem
  }
}

/**
 * The insecure engine runs tasks as the worker's own user: it accepts osGroups that user already
 * belongs to and refuses the rest (generic-worker os_groups_insecure.go:16-37, checkUserGroupsInList :72-79).
 */
function insecureGroupProblems(groups: readonly string[]): string[] {
  if (groups.length === 0) return []
  const mine = workerUserGroups()
  const notIn = groups.filter((g) => !mine.has(g))
  if (notIn.length === 0) return []
  return [`task payload contains unsupported osGroups: [${notIn.join(' ')}]\nallowed values (on this worker pool): [${[...mine].sort().join(' ')}]`]
}

/** The names of the worker user's groups, as Go's user.Current().GroupIds() finds them: the primary group and every /etc/group line listing the user. */
export function workerUserGroups(groupFile = '/etc/group'): Set<string> {
  const me = userInfo()
  const names = new Set<string>()
  let text = ''
  try {
    text = readFileSync(groupFile, 'utf8')
  } catch {
    return names
  }
  for (const { name, gid, members } of parseGroupFile(text)) {
    if (!name || gid === undefined) continue
    if (gid === me.gid || members.includes(me.username)) names.add(name)
  }
  return names
}

/** osGroups: per engine and scope, as generic-worker's OS Groups feature checks them. */
function osGroupsProblems(payload: NativePayload, config: WorkerConfig, scopes: ScopeChecks): string[] {
  const groups = payload.osGroups ?? []
  if (groups.length === 0) return []
  if (config.engine === 'insecure') return insecureGroupProblems(groups)
  const pool = `${config.provisionerId}/${config.workerType}`
  const problem = scopes.problem('osGroups', groups.map((g) => `generic-worker:os-group:${pool}/${g}`))
  return problem ? [problem] : []
}

/** runTaskAsCurrentUser: capacity, config switch and scope (multiuser engines only). */
function runAsCurrentUserProblems(payload: NativePayload, config: WorkerConfig, scopes: ScopeChecks): string[] {
  if (config.engine === 'insecure' || payload.features?.runTaskAsCurrentUser !== true) return []
  // run_task_as_current_user_feature.go:19-29: disabled with capacity > 1, whatever the config says
  if (config.capacity > 1) return [`feature "Run Task As Current User" is not compatible with capacity > 1 (current capacity: ${config.capacity}) because it would bypass per-task user isolation`]
  const problems: Array<string | undefined> = []
  if (!config.enableRunTaskAsCurrentUser) problems.push(featureNotEnabledProblem('runTaskAsCurrentUser', config))
  problems.push(scopes.problem('runTaskAsCurrentUser', [`generic-worker:run-task-as-current-user:${config.provisionerId}/${config.workerType}`]))
  return problems.filter((p) => p !== undefined)
}

/**
 * loopbackVideo / loopbackAudio: the config switch and the scope, per pool or bare
 * (loopback_audio_feature_linux.go:48-53, loopback_video_feature_linux.go:42-47).
 */
function loopbackProblems(payload: NativePayload, config: WorkerConfig, scopes: ScopeChecks): string[] {
  const pool = `${config.provisionerId}/${config.workerType}`
  const problems: Array<string | undefined> = []
  for (const [feature, enabled, scope] of [
    // multiuser_linux.go:16-20 / insecure_linux.go:5-8: Loopback Audio starts before Loopback Video
    ['loopbackAudio', config.enableLoopbackAudio, 'generic-worker:loopback-audio'],
    ['loopbackVideo', config.enableLoopbackVideo, 'generic-worker:loopback-video'],
  ] as const) {
    if (payload.features?.[feature] !== true) continue
    if (!currentPlatform().supports(feature)) {
      problems.push(`feature "${feature}" is only available on Linux workers`)
      continue
    }
    if (!enabled) problems.push(featureNotEnabledProblem(feature, config))
    problems.push(scopes.problem(feature, { anyOf: [[`${scope}:${pool}`], [scope]] }))
  }
  return problems.filter((p) => p !== undefined)
}

/**
 * The first feature, in generic-worker's order (main.go:82-94), that the task requests but this
 * worker's config turns off: the task is refused with that one (main.go:1196-1214), before any
 * feature starts. Mounts/Caches, OS Groups and Metadata are requested by every task
 * (mounts_feature.go:444-446, os_groups_feature.go:23-26, metadata_feature.go:46-48), so with
 * their switch off no task runs; Live Log and Resource Monitor unless the payload turns them
 * off (livelog_feature.go:33-35, resource_monitor_feature.go:26-28); the proxy and the shell
 * when asked for.
 */
function firstDisabledFeature(payload: NativePayload, config: WorkerConfig): string | undefined {
  const f = payload.features ?? {}
  const order: Array<[string, boolean, boolean]> = [
    ['liveLog', f.liveLog !== false, config.enableLiveLog],
    ['taskclusterProxy', f.taskclusterProxy === true, config.enableTaskclusterProxy],
    ['osGroups', true, config.enableOSGroups],
    ['mounts', true, config.enableMounts],
    ['resourceMonitor', f.resourceMonitor !== false, config.enableResourceMonitor],
    ['interactive', f.interactive === true, config.enableInteractive],
    ['metadata', true, config.enableMetadata],
  ]
  return order.find(([, requested, enabled]) => requested && !enabled)?.[0]
}

/** What generic-worker refuses about mounts before running anything (malformed-payload). */
function mountProblems(mounts: Mount[], task: TaskDefinition, scopes: ScopeChecks): string[] {
  if (mounts.length === 0) return []
  const problems: string[] = []
  const scopeProblem = scopes.problem('mounts', mounts.filter(isCache).map((m) => `generic-worker:cache:${m.cacheName}`))
  // main.go:1219-1229 checks a feature's scopes and returns before its Start(), where the
  // dependency check is reported (mounts_feature.go:543, 614-616): a scope refusal comes alone
  if (scopeProblem) return [scopeProblem]
  const dependencies = new Set(task.dependencies ?? [])
  for (const m of mounts) {
    const content = m.content
    if (content && 'taskId' in content && !dependencies.has(content.taskId)) {
      // mounts_feature.go:543 (mounts_test.go:100 expects the prefix)
      problems.push(`[mounts] task.dependencies needs to include ${content.taskId} since one or more of its artifacts are mounted`)
    }
  }
  return [...new Set(problems)]
}

export interface NativeArtifact {
  type: 'file' | 'directory'
  path: string
  name?: string
  expires?: string
  contentType?: string
  contentEncoding?: 'identity' | 'gzip'
  optional?: boolean
}

export interface NativePayload {
  /** argv arrays (Linux, macOS) or cmd.exe lines (Windows). */
  command: string[][] | string[]
  env?: Record<string, string>
  maxRunTime: number
  artifacts?: NativeArtifact[]
  features?: Record<string, boolean>
  mounts?: Mount[]
  osGroups?: string[]
  onExitStatus?: { retry?: number[]; purgeCaches?: number[] }
  logs?: { live?: string; backing?: string }
  supersederUrl?: string
  taskclusterProxyInterface?: string
}


/**
 * The lines generic-worker prints under `See errors:` (main.go:935-937): gojsonschema's list for
 * the schema it validates against, which on posix is `oneOf: [generic, docker]`, so a payload
 * closer to a docker-worker payload gets the docker branch's errors. ajv's own errors, in
 * gojsonschema's words, only if the walk finds nothing (the two disagree on a format).
 */
function schemaProblems(payload: unknown, config: WorkerConfig, platform: string, validate: ValidateFunction): string[] {
  let problems: string[] = []
  try {
    problems = gojsonschemaErrors(payloadDocumentFor(config.engine, platform), payload)
  } catch (err) {
    if (!(err instanceof UnsupportedSchema)) throw err
  }
  if (problems.length > 0) return problems
  const fallback = (validate.errors ?? []).map((e) => describeSchemaError(e, payload))
  if (platform !== 'windows') fallback.unshift('(root): Must validate one and only one schema (oneOf)')
  return [...new Set(fallback)]
}

export function validateNativePayload(task: TaskDefinition, config: WorkerConfig, heldScopes: readonly string[] = task.scopes): ValidatedPayload<NativePayload> {
  const copy: unknown = structuredClone(task.payload)
  const platform = currentPlatform()
  // Windows has one engine (multiuser) and its own schema
  const validate = platform.name === 'windows' ? windowsPayloadValidator() : config.engine === 'multiuser' ? multiuserPayloadValidator() : payloadValidator()
  if (!validate(copy)) throw new PayloadSchemaInvalid(schemaProblems(copy, config, platform.name, validate))
  const payload = copy as NativePayload
  const disabled = firstDisabledFeature(payload, config)
  if (disabled) throw new MalformedPayload('the task payload cannot run on this worker', [featureNotEnabledProblem(disabled, config)])
  const problems: string[] = []

  if (payload.maxRunTime > config.maxTaskRunTime) {
    problems.push(`task's maxRunTime of ${payload.maxRunTime} exceeded allowed maximum of ${config.maxTaskRunTime}`)
  }
  const deadline = Date.parse(task.deadline)
  const expires = Date.parse(task.expires)
  // artifact_feature.go:67-78: one second of slack on both bounds; times as tcclient.Time prints them
  const at = (ms: number) => new Date(ms).toISOString()
  for (const a of payload.artifacts ?? []) {
    if (a.expires === undefined) continue
    const t = Date.parse(a.expires)
    if (t + 1000 < deadline) problems.push(`malformed payload: artifact '${a.path}' expires before task deadline (${at(t)} is before ${at(deadline)})`)
    else if (t > expires + 1000) problems.push(`malformed payload: artifact '${a.path}' expires after task expiry (${at(t)} is after ${at(expires)})`)
  }
  // in generic-worker's feature order (main.go:88-89, then multiuser_linux.go:16-20 /
  // insecure_linux.go:5-8): OS Groups, Mounts/Caches, Run Task As Current User, Loopback Audio, Video
  const scopes = new ScopeChecks(task.scopes, heldScopes)
  problems.push(...osGroupsProblems(payload, config, scopes))
  problems.push(...mountProblems(payload.mounts ?? [], task, scopes))
  problems.push(...runAsCurrentUserProblems(payload, config, scopes))
  problems.push(...loopbackProblems(payload, config, scopes))
  if (problems.length > 0) {
    // a scope refusal lets the core expand the task's roles and validate again (main.go:1219)
    throw new (scopes.refused ? MissingScopes : MalformedPayload)('the task payload cannot run on this worker', problems)
  }

  const liveLog = payload.features?.liveLog !== false
  const backingLog = payload.features?.backingLog !== false
  return {
    payload,
    maxRunTimeSecs: payload.maxRunTime,
    logs: {
      backing: backingLog ? (payload.logs?.backing ?? 'public/logs/live_backing.log') : null,
      // without a backing log there is nothing to link to: the reference stays (livelog_feature.go:135)
      live: liveLog ? (payload.logs?.live ?? 'public/logs/live.log') : null,
    },
    retryExitCodes: payload.onExitStatus?.retry ?? [],
  }
}
