// Worker configuration. `megalodon run` reads generic-worker's config file and nothing else, as
// generic-worker does (gwconfig/config.go:282-296: the JSON file only; worker-runner writes every
// setting there, tools/worker-runner/worker/genericworker/genericworker.go:91-104), so a stray
// TASKCLUSTER_* variable cannot replace the credentials worker-runner gave. `local`,
// megalodon's own command, also reads YAML and environment overrides. Keys keep
// generic-worker's names; unknown keys are refused by name.

import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { isYamlFile, parseJsonOrYaml } from '../lib/json-or-yaml.js'
import { ConfigError, ConfigUnreadable } from '../contract/errors.js'
import { configKeys, D2G_DEFAULTS, type ConfigKeySpec } from './config-keys.js'
import { canonicalLayer, checkDecodes } from './go-decode.js'
import { validateSettings } from './validate.js'

type ValueOf<Spec> = Spec extends ConfigKeySpec<infer T, true> ? T : never
/** The keys of a table that the worker acts on, each with its value's type. */
type AppliedKeys<Table> = { [K in keyof Table as Table[K] extends ConfigKeySpec<unknown, true> ? K : never]: ValueOf<Table[K]> }

/** The worker's configuration: every key of configKeys it acts on, typed by the table. */
export type WorkerConfig = AppliedKeys<typeof configKeys> & {
  /** Keys accepted for compatibility but not acted on, with their values. */
  notApplied: Record<string, unknown>
}

export type RawConfig = Record<string, unknown>

/** Environment variables that override config keys (Taskcluster's usual names first). */
const envOverrides: Record<string, string> = {
  TASKCLUSTER_ROOT_URL: 'rootURL',
  TASKCLUSTER_CLIENT_ID: 'clientId',
  TASKCLUSTER_ACCESS_TOKEN: 'accessToken',
  TASKCLUSTER_CERTIFICATE: 'certificate',
}

/** `MEGALODON_WORKER_GROUP` → `workerGroup`; values are parsed as JSON when they parse. */
function keyFromMegalodonEnv(name: string): string | undefined {
  if (!name.startsWith('MEGALODON_')) return undefined
  const wanted = name.slice('MEGALODON_'.length).replace(/_/g, '').toLowerCase()
  return Object.keys(configKeys).find((k) => k.toLowerCase() === wanted)
}

export function configFromEnv(env: NodeJS.ProcessEnv): RawConfig {
  const out: RawConfig = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    const key = envOverrides[name] ?? keyFromMegalodonEnv(name)
    if (!key) continue
    const spec: ConfigKeySpec | undefined = (configKeys as Record<string, ConfigKeySpec>)[key]
    out[key] = spec?.type === 'string' ? value : parseLoose(value)
  }
  return out
}

function parseLoose(value: string): unknown {
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

/** `yaml: false`: JSON whatever the file's name, as generic-worker reads it (`run`). */
export async function readConfigFile(file: string, options: { yaml?: boolean } = {}): Promise<RawConfig> {
  const yaml = options.yaml !== false && isYamlFile(file)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigUnreadable(`cannot read config file ${file}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = yaml ? await parseJsonOrYaml(file, text) : (JSON.parse(text) as unknown)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the top level must be an object')
  } catch (err) {
    // an unmarshal error: exit 64 (gwconfig/config.go:292-296, main.go:178-179)
    throw new ConfigUnreadable(`Error unmarshaling generic worker config file ${file} as ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`)
  }
  try {
    return canonicalLayer(parsed as RawConfig, KEYS, EXTRA_KEYS)
  } catch (err) {
    throw new ConfigUnreadable(`Error unmarshaling generic worker config file ${file} as JSON: ${(err as Error).message}`)
  }
}

const KEYS = Object.keys(configKeys)
/** Not a key of the table, split into provisionerId and workerType below. */
const EXTRA_KEYS = ['workerPoolId']
export type Engine = 'insecure' | 'multiuser'

/** megalodon's bounds and choices past what decodes: an invalid config (73). */
function checkRange(key: string, spec: ConfigKeySpec, value: unknown): void {
  if (spec.type === 'integer' && ((spec.min !== undefined && (value as number) < spec.min) || (spec.max !== undefined && (value as number) > spec.max))) {
    throw new ConfigError(`config key "${key}" must be between ${spec.min ?? '-∞'} and ${spec.max ?? '∞'}, got ${String(value)}`)
  }
  if (spec.oneOf && !spec.oneOf.includes(value as string)) {
    throw new ConfigError(`config key "${key}" must be ${spec.oneOf.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(value)}`)
  }
}

/**
 * What `run` requires non-empty, in generic-worker's order (gwconfig/config.go:121-144). Every
 * build checks them, the insecure one too (main.go:417), though only the multiuser build reads
 * the chain of trust key. Only megalodon's own worker-manager registration (`workerManager`)
 * brings the credentials instead.
 */
export function runSettings(withCredentials: boolean): string[] {
  const keys = ['accessToken', 'cachesDir', 'clientId', 'downloadsDir', 'ed25519SigningKeyLocation', 'livelogExecutable', 'provisionerId', 'rootURL', 'tasksDir', 'workerGroup', 'workerId', 'workerType']
  return keys.filter((k) => withCredentials || (k !== 'clientId' && k !== 'accessToken'))
}

export interface BuildOptions {
  /** Keys that must be non-empty once defaults apply (`run`: runSettings). */
  required?: string[]
  baseDir?: string
  /** The engine when no layer names one (`run` as root on Linux: multiuser). */
  defaultEngine?: Engine
}

/** The engine `megalodon run` uses when the config names none: never weaker than the generic-worker build it replaces. */
export function runDefaultEngine(): Engine {
  return process.platform === 'linux' && process.getuid?.() === 0 ? 'multiuser' : 'insecure'
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** An empty value for a key generic-worker requires; a key it defaults ("accepted" here) may be absent. */
function undefinedSetting(config: Record<string, unknown>, key: string): boolean {
  const spec = (configKeys as Record<string, ConfigKeySpec>)[key]
  const value = spec?.applies === false ? (config.notApplied as RawConfig)[key] : config[key]
  return value === '' || (value === undefined && spec?.applies !== false)
}

/**
 * Merge file and environment, check every key, apply defaults. Decoding problems (64) are
 * found before invalid settings (73), as generic-worker decodes before it validates.
 */
export function buildConfig(layers: RawConfig[], options: BuildOptions = {}): WorkerConfig {
  const canonical = layers.map((l) => canonicalLayer(l, KEYS, EXTRA_KEYS))
  const merged: RawConfig = Object.assign({}, ...canonical)
  // d2gConfig overlays its defaults key by key, as generic-worker merges a config file's objects
  // into its defaults (gwconfig/config.go:297-299); a value that is not an object is left to fail its check
  const d2gLayers = canonical.map((l) => l.d2gConfig).filter((v) => v !== undefined)
  if (d2gLayers.length > 0 && d2gLayers.every(isPlainObject)) merged.d2gConfig = Object.assign({}, D2G_DEFAULTS, ...d2gLayers)
  // generic-worker has no workerPoolId key, but people write it: split it as worker-runner does.
  if (merged.workerPoolId !== undefined) {
    const [prov, ...rest] = String(merged.workerPoolId).split('/')
    if (typeof merged.workerPoolId !== 'string' || !prov || rest.length === 0) throw new ConfigError(`config key "workerPoolId" must look like "provisionerId/workerType", got ${JSON.stringify(merged.workerPoolId)}`)
    merged.provisionerId ??= prov
    merged.workerType ??= rest.join('/')
    delete merged.workerPoolId
  }
  for (const [key, spec] of Object.entries(configKeys) as Array<[string, ConfigKeySpec]>) {
    if (merged[key] !== undefined) checkDecodes(key, spec, merged[key])
  }
  const engine = (merged.engine as Engine | undefined) ?? options.defaultEngine ?? 'insecure'
  merged.engine = engine
  // the engine's own defaults
  if (engine === 'multiuser') {
    merged.enableRunTaskAsCurrentUser ??= true // gwconfig/config_multiuser.go:11-14
    if (process.platform === 'linux') merged.tasksDir ??= '/home' // multiuser_linux.go:12-14
  }
  const config: Record<string, unknown> = { notApplied: {} }
  for (const [key, spec] of Object.entries(configKeys) as Array<[string, ConfigKeySpec]>) {
    const value = merged[key]
    if (value === undefined) {
      if (spec.applies) config[key] = spec.default
      continue
    }
    checkRange(key, spec, value)
    if (spec.applies) config[key] = value
    else (config.notApplied as RawConfig)[key] = value
  }
  const missing = (options.required ?? []).find((key) => undefinedSetting(config, key))
  if (missing !== undefined) throw new ConfigError(`Config setting "${missing}" has not been defined`)
  validateSettings(config as WorkerConfig)
  const baseDir = options.baseDir ?? process.cwd()
  for (const dirKey of ['tasksDir', 'cachesDir', 'downloadsDir'] as const) {
    config[dirKey] = path.resolve(baseDir, config[dirKey] as string)
  }
  if (config.engine === 'multiuser' && process.getuid?.() !== 0) {
    throw new ConfigError('the multiuser engine creates a user per task: the worker must run as root')
  }
  // every key of the table was checked against its spec above
  return config as WorkerConfig
}

/** Config for `megalodon run`: the file alone, JSON alone; credentials required unless worker-manager provides them. */
export async function loadWorkerConfig(file: string): Promise<WorkerConfig> {
  const layer = await readConfigFile(file, { yaml: false })
  return buildConfig([layer], { required: runSettings(layer.workerManager === undefined), defaultEngine: runDefaultEngine() })
}
