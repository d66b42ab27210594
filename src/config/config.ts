// Worker configuration: generic-worker's config file (JSON, or YAML for people writing it by
// hand) plus environment overrides. Keys keep generic-worker's names so that worker-runner's
// generated file works unchanged; unknown keys are refused by name.

import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { isYamlFile, parseJsonOrYaml } from '../lib/json-or-yaml.js'
import { ConfigError, ConfigUnreadable } from '../contract/errors.js'
import { configKeys, type ConfigKeySpec } from './config-keys.js'

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

export async function readConfigFile(file: string): Promise<RawConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigUnreadable(`cannot read config file ${file}: ${(err as Error).message}`)
  }
  try {
    const parsed = await parseJsonOrYaml(file, text)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('the top level must be an object')
    }
    return parsed as RawConfig
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${isYamlFile(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`)
  }
}

function checkType(key: string, spec: ConfigKeySpec, value: unknown): void {
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value
  const ok =
    spec.type === 'integer' ? Number.isInteger(value) : spec.type === 'any' ? true : actual === spec.type
  if (!ok) throw new ConfigError(`config key "${key}" must be ${spec.type === 'integer' ? 'an integer' : `a ${spec.type}`}, got ${JSON.stringify(value)}`)
  if (spec.type === 'integer' && ((spec.min !== undefined && (value as number) < spec.min) || (spec.max !== undefined && (value as number) > spec.max))) {
    throw new ConfigError(`config key "${key}" must be between ${spec.min ?? '-∞'} and ${spec.max ?? '∞'}, got ${String(value)}`)
  }
  if (spec.oneOf && !spec.oneOf.includes(value as string)) {
    throw new ConfigError(`config key "${key}" must be ${spec.oneOf.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(value)}`)
  }
}

/**
 * Merge file and environment, check every key, apply defaults.
 * `required` lists keys that must be present (the `run` command needs credentials, `local` does not).
 */
export function buildConfig(layers: RawConfig[], options: { required?: string[]; baseDir?: string } = {}): WorkerConfig {
  const merged: RawConfig = Object.assign({}, ...layers)
  // generic-worker has no workerPoolId key, but people write it: split it as worker-runner does.
  if (typeof merged.workerPoolId === 'string') {
    const [prov, ...rest] = merged.workerPoolId.split('/')
    if (!prov || rest.length === 0) throw new ConfigError(`config key "workerPoolId" must look like "provisionerId/workerType", got ${JSON.stringify(merged.workerPoolId)}`)
    merged.provisionerId ??= prov
    merged.workerType ??= rest.join('/')
    delete merged.workerPoolId
  }
  const unknown = Object.keys(merged).filter((k) => !(k in configKeys))
  if (unknown.length > 0) {
    throw new ConfigError(`unknown config key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (see the README's configuration table)`)
  }
  const config: Record<string, unknown> = { notApplied: {} }
  for (const [key, spec] of Object.entries(configKeys)) {
    const value = merged[key]
    if (value === undefined) {
      if (options.required?.includes(key)) throw new ConfigError(`config key "${key}" is required`)
      if (spec.applies) config[key] = spec.default
      continue
    }
    checkType(key, spec, value)
    if (spec.applies) config[key] = value
    else (config.notApplied as RawConfig)[key] = value
  }
  const baseDir = options.baseDir ?? process.cwd()
  for (const dirKey of ['tasksDir', 'cachesDir', 'downloadsDir'] as const) {
    config[dirKey] = path.resolve(baseDir, config[dirKey] as string)
  }
  if (config.engine === 'multiuser' && process.getuid?.() !== 0) {
    throw new ConfigError('the multiuser engine creates a user per task: the worker must run as root')
  }
  if (config.publicIP && !isIP(config.publicIP as string)) {
    throw new ConfigError(`config key "publicIP" is not a valid IP address: ${JSON.stringify(config.publicIP)}`)
  }
  // every key of the table was checked against its spec above
  return config as WorkerConfig
}

function isIP(s: string): boolean {
  return /^(\d{1,3}\.){3}\d{1,3}$/.test(s) || /^[0-9a-f:]+$/i.test(s)
}

/** Config for `megalodon run`: file + environment; credentials required unless worker-manager provides them. */
export async function loadWorkerConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<WorkerConfig> {
  const layers = [await readConfigFile(file), configFromEnv(env)]
  const registers = layers.some((l) => l.workerManager !== undefined)
  return buildConfig(layers, {
    required: ['rootURL', 'workerId', 'workerType', ...(registers ? [] : ['clientId', 'accessToken'])],
  })
}
