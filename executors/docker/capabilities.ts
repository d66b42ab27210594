// What a docker-worker payload may ask of the host — caches, privileged mode, devices, ptrace — and
// the checks docker-worker made first: the task's scopes, this worker's config (generic-worker's
// d2gConfig switches), and the host itself. A refusal fails the task, as in docker-worker.

import { existsSync } from 'node:fs'
import type { WorkerConfig } from '../../src/config/config.js'
import { anyScopeSatisfied } from '../../src/lib/scopes.js'
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
      return [`/dev/video${config.loopbackVideoDeviceNumber}`]
    case 'loopbackAudio': {
      const c = config.loopbackAudioDeviceNumber
      return [`/dev/snd/controlC${c}`, `/dev/snd/pcmC${c}D0c`, `/dev/snd/pcmC${c}D0p`, `/dev/snd/pcmC${c}D1c`, `/dev/snd/pcmC${c}D1p`]
    }
    default:
      return []
  }
}

/**
 * The host access the payload gets, or the reason it may not have it (docker-worker's wording where
 * it had one). `expanded` is what caches and devices are checked against (task-scopes.ts).
 */
export function hostAccess(payload: DockerPayload, scopes: readonly string[], config: WorkerConfig, expanded: readonly string[] = scopes): HostAccess | { refused: string; ptrace?: true } {
  const pool = `${config.provisionerId}/${config.workerType}`
  const d2g = config.d2gConfig
  const access: HostAccess = { privileged: false, binds: [], devices: [], capAdd: [] }
  // docker-worker checked allowPtrace first (while linking features), then the docker config
  if (payload.features?.allowPtrace) {
    if (!anyScopeSatisfied(scopes, ['docker-worker:feature:allowPtrace', `docker-worker:feature:allowPtrace:${pool}`])) {
      return { refused: "Insufficient scopes to use 'allowPtrace' feature.", ptrace: true }
    }
    access.capAdd.push('SYS_PTRACE')
  }
  for (const name of Object.keys(payload.cache ?? {})) {
    if (!anyScopeSatisfied(expanded, [`docker-worker:cache:${name}`, `docker-worker:cache:${name}:${pool}`])) {
      return { refused: `Insufficient scopes to attach cache volumes. The task needs docker-worker:cache:${name}.` }
    }
  }
  if (payload.capabilities?.privileged) {
    if (!anyScopeSatisfied(scopes, ['docker-worker:capability:privileged', `docker-worker:capability:privileged:${pool}`])) {
      return { refused: 'Insufficient scopes to run task in privileged mode. The task needs docker-worker:capability:privileged.' }
    }
    if (d2g.allowPrivileged !== true) return { refused: 'Cannot run task using docker privileged mode.  Worker must be enabled to allow running of privileged tasks.' }
    access.privileged = true
  }
  for (const [name, wanted] of Object.entries(payload.capabilities?.devices ?? {})) {
    if (!wanted) continue
    if (!anyScopeSatisfied(expanded, [`docker-worker:capability:device:${name}`, `docker-worker:capability:device:${name}:${pool}`])) {
      return { refused: `Insufficient scopes to attach devices. The task needs docker-worker:capability:device:${name}.` }
    }
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
  return access
}
