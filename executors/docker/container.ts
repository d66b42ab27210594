// A task's container and network on a DockerEngine: create, attach, start, wait (settling when
// the engine goes away), and removing what a task or a crashed worker left.

import type { TaskLog } from '../../src/lib/task-log.js'
import type { DeviceMapping, DockerEngine } from './engine.js'

export const TASK_LABEL = 'megalodon.task'
/** Which worker made a container: a restart removes its own leftovers, never another worker's. */
export const WORKER_LABEL = 'megalodon.worker'

export interface RunOptions {
  image: string
  /** Absent: the image's own. */
  entrypoint?: string[]
  command: string[]
  env: Record<string, string>
  label: string
  /** `<workerGroup>/<workerId>` */
  worker: string
  /** `host-dir:container-path` bind mounts (caches, /dev/shm). */
  binds: string[]
  privileged: boolean
  devices: DeviceMapping[]
  capAdd: string[]
  /** A network of the task's own (the taskcluster-proxy feature), instead of the default bridge. */
  network?: TaskNetwork
  log: TaskLog
  signal: AbortSignal
  /** Called when the container exists (so it is removed whatever happens next). */
  onCreated: (containerId: string) => void
}

/** Create, attach, start, wait. */
export async function runContainer(engine: DockerEngine, o: RunOptions): Promise<{ exitCode: number; aborted: boolean }> {
  const id = await engine.containers.create({
    image: o.image,
    ...(o.entrypoint ? { entrypoint: o.entrypoint } : {}),
    command: o.command,
    env: o.env,
    labels: { [TASK_LABEL]: o.label, [WORKER_LABEL]: o.worker },
    shmSizeBytes: 1_800_000_000,
    // `taskcluster` names the worker side of the task's own network, as docker-worker's
    // proxy container was linked under that name.
    extraHosts: ['localhost.localdomain:127.0.0.1', ...(o.network ? [`taskcluster:${o.network.gateway}`] : [])],
    network: o.network?.name,
    binds: o.binds,
    privileged: o.privileged,
    devices: o.devices,
    capAdd: o.capAdd,
  })
  o.onCreated(id)
  const stream = await engine.containers.attach(id)
  const ended = new Promise<void>((resolve) => {
    o.log.follow(stream)
    stream.once('end', () => resolve())
    stream.once('error', () => resolve())
  })
  const kill = () => void engine.containers.kill(id).catch(() => undefined)
  o.signal.addEventListener('abort', kill, { once: true })
  try {
    if (o.signal.aborted) return { exitCode: -1, aborted: true }
    await engine.containers.start(id)
    // If the engine dies, its wait request may never answer: the attach stream ending while the
    // engine no longer answers a ping settles the run instead.
    const engineGone = new Promise<never>((_resolve, reject) => {
      void ended.then(async () => {
        if (!(await engine.ping())) reject(new Error('lost the connection to the Docker engine'))
      })
    })
    engineGone.catch(() => undefined) // handled by the race below; never an unhandled rejection
    const exitCode = await Promise.race([engine.containers.wait(id), engineGone])
    await ended
    return o.signal.aborted ? { exitCode: -1, aborted: true } : { exitCode, aborted: false }
  } finally {
    o.signal.removeEventListener('abort', kill)
  }
}

/** Containers and networks whose removal failed (the engine was away), retried before a later task. */
export interface Leftovers {
  containers: Set<string>
  networks: Set<string>
}

export async function removeLeftovers(engine: DockerEngine, leftovers: Leftovers): Promise<void> {
  for (const id of leftovers.containers) {
    await engine.containers.remove(id).then(
      () => leftovers.containers.delete(id),
      () => undefined,
    )
  }
  for (const name of leftovers.networks) {
    await engine.networks.remove(name).then(
      () => leftovers.networks.delete(name),
      () => undefined,
    )
  }
}

export interface TaskNetwork {
  name: string
  /** The host's address on this network: what the container reaches the worker at. */
  gateway: string
}

/**
 * A bridge network for one task. The worker's address on it (the gateway) is the task's alone,
 * so a feature server listening there on a fixed port (the proxy on 80) never collides with
 * another task's, and only this task's container can reach it.
 */
export async function createTaskNetwork(engine: DockerEngine, label: string, worker: string): Promise<TaskNetwork> {
  return engine.networks.create(`megalodon-${label}`, { [TASK_LABEL]: label, [WORKER_LABEL]: worker })
}

/** Remove every task container and network this worker left (after a crash: they carry its label). */
export async function removeWorkerContainers(engine: DockerEngine, worker: string): Promise<void> {
  const containers = await engine.containers.listByLabel(WORKER_LABEL, worker)
  await Promise.all(containers.map((id) => engine.containers.remove(id).catch(() => undefined)))
  const networks = await engine.networks.listByLabel(WORKER_LABEL, worker)
  await Promise.all(networks.map((id) => engine.networks.remove(id).catch(() => undefined)))
}
