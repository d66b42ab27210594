// What a docker-worker payload may ask of the host — caches, privileged mode, devices, ptrace — and
// the checks docker-worker made first: the task's scopes, this worker's config (generic-worker's
// d2gConfig switches), and the host itself. A refusal fails the task, as in docker-worker.

import { existsSync } from 'node:fs'
import type { WorkerConfig } from '../../src/config/config.js'
import { audioDevicePaths, videoDevicePath } from '../../src/lib/loopback-devices.js'
import { anyScopeSatisfied, removeGivenScopes, type ScopeExpression } from '../../src/lib/scopes.js'
import type { DockerPayload } from './payload.js'

export interface HostAccess {
  privileged: boolean
  binds: string[]
  devices: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>
  capAdd: string[]
}

const deviceConfigKey: Record<string, string> = { kvm: 'allowKVM', hostSharedMemory: 'allowHostSharedMemory', loopbackAudio: 'allowLoopbackAudio', loopbackVideo: 'allowLoopbackVideo' }

function devicePaths(name: string, config: WorkerConfig): string[] {
  switch (name) {
    case 'kvm':
      return ['/dev/kvm']
    case 'loopbackVideo':
      return [videoDevicePath(config.loopbackVideoDeviceNumber)]
    case 'loopbackAudio':
      return audioDevicePaths(config.loopbackAudioDeviceNumber)
    default:
      return []
  }
}

/** docker-worker's scope expression for a payload's devices or caches: every key, either form. */
function allOfKeys(prefix: string, keys: string[], pool: string): ScopeExpression {
  return { AllOf: keys.map((k) => ({ AnyOf: [`${prefix}:${k}`, `${prefix}:${k}:${pool}`] })) }
}

/**
 * docker-worker's refusal of devices or caches the expanded scopes do not cover
 * (src/task.js:95-120 caches, :160-187 devices), one multi-line message. For devices docker-worker
 * interpolated both expressions as `[object Object]` (:169,:175): a bug that hides the scope
 * the task lacks, fixed deliberately here by printing them as JSON, as its cache message does.
 * The rest is byte for byte, the device message's blank line before its second fence included.
 */
function scopeRefusal(what: 'devices' | 'caches', held: readonly string[], expression: ScopeExpression): string | undefined {
  const missing = removeGivenScopes(held, expression)
  if (missing === null) return undefined
  return [
    what === 'devices' ? 'Insufficient scopes to attach devices to task container.' : 'Insufficient scopes to attach cache volumes.',
    'The task is missing the following scopes:',
    '',
    '```',
    JSON.stringify(missing),
    '```',
    'This requested devices requires the task scopes to satisfy the following scope expression:',
    ...(what === 'devices' ? [''] : []),
    '```',
    JSON.stringify(expression),
    '```',
  ].join('\n')
}

/**
 * The host access the payload gets, or the reason it may not have it, in docker-worker's order
 * and words (src/task.js:370-428): privileged mode against the task's own scopes, then the
 * scopes expanded through Auth (`expand`, asked only now), then devices, then caches against the
 * expansion. allowPtrace was refused earlier, while features were linked (payload.ts).
 */
export async function hostAccess(payload: DockerPayload, scopes: readonly string[], config: WorkerConfig, expand: () => Promise<readonly string[]>): Promise<HostAccess | { refused: string }> {
  const pool = `${config.provisionerId}/${config.workerType}`
  const d2g = config.d2gConfig
  const access: HostAccess = { privileged: false, binds: [], devices: [], capAdd: [] }
  if (payload.features?.allowPtrace) access.capAdd.push('SYS_PTRACE')
  if (payload.capabilities?.privileged) {
    if (!anyScopeSatisfied(scopes, ['docker-worker:capability:privileged', `docker-worker:capability:privileged:${pool}`])) {
      return { refused: `Insufficient scopes to run task in privileged mode. Try adding docker-worker:capability:privileged:${pool} to the .scopes array` }
    }
    if (d2g.allowPrivileged !== true) return { refused: 'Cannot run task using docker privileged mode.  Worker must be enabled to allow running of privileged tasks.' }
    access.privileged = true
  }
  const expanded = await expand()
  // docker-worker acquired every device the payload lists, whatever its value (src/task_listener.js:445-452)
  const devices = Object.keys(payload.capabilities?.devices ?? {})
  const deviceRefusal = devices.length > 0 ? scopeRefusal('devices', expanded, allOfKeys('docker-worker:capability:device', devices, pool)) : undefined
  if (deviceRefusal) return { refused: deviceRefusal }
  for (const name of devices) {
    if (d2g[deviceConfigKey[name]!] !== true) return { refused: `Device ${name} is not enabled on this worker (d2gConfig.${deviceConfigKey[name]}).` }
    if (name === 'hostSharedMemory') {
      access.binds.push('/dev/shm:/dev/shm')
      continue
    }
    const paths = devicePaths(name, config)
    const missing = paths.filter((p) => !existsSync(p))
    if (missing.length > 0) return { refused: `Device ${name} is not available on this worker: ${missing.join(', ')} missing.` }
    for (const p of paths) access.devices.push({ PathOnHost: p, PathInContainer: p, CgroupPermissions: 'rwm' })
  }
  const caches = Object.keys(payload.cache ?? {})
  const cacheRefusal = caches.length > 0 ? scopeRefusal('caches', expanded, allOfKeys('docker-worker:cache', caches, pool)) : undefined
  if (cacheRefusal) return { refused: cacheRefusal }
  return access
}
