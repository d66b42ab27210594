// A narrow wrapper over dockerode: the few Engine calls the docker executor makes, streamed.

import type { Duplex } from 'node:stream'
import Docker from 'dockerode'
import type { Terminal, TerminalSize } from '../../src/contract/terminal.js'
import type { TaskLog } from '../../src/lib/task-log.js'

export const TASK_LABEL = 'megalodon.task'
/** Which worker made a container: a restart removes its own leftovers, never another worker's. */
export const WORKER_LABEL = 'megalodon.worker'

let engine: Docker | undefined

/** The local engine (DOCKER_HOST or /var/run/docker.sock), made on first use. */
export function docker(): Docker {
  engine ??= new Docker()
  return engine
}

export interface RegistryCredentials {
  username: string
  password: string
}

/** The registry an image name refers to (`docker.io` when the name has no registry part). */
export function registryOf(image: string): string {
  const first = image.split('/')[0]!
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io'
}

/** Pull the image unless the engine has it already; progress lines go to the task log. */
export async function ensureImage(name: string, log: TaskLog, registries: Record<string, RegistryCredentials> = {}): Promise<void> {
  try {
    await docker().getImage(name).inspect()
    return
  } catch {
    // not here yet: pull
  }
  log.info(`Pulling image ${name}`)
  const credentials = registries[registryOf(name)]
  const stream = await docker().pull(name, credentials ? { authconfig: { ...credentials, serveraddress: registryOf(name) } } : {})
  await new Promise<void>((resolve, reject) => {
    docker().modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: { status?: string; id?: string; error?: string }) => {
        if (event.error) reject(new Error(event.error))
        else if (event.status && !event.status.startsWith('Downloading') && !event.status.startsWith('Extracting')) log.write(`${event.id ? `${event.id}: ` : ''}${event.status}\n`)
      },
    )
  })
}

export interface RunOptions {
  image: string
  command: string[]
  env: Record<string, string>
  label: string
  /** `<workerGroup>/<workerId>` */
  worker: string
  /** `host-dir:container-path` bind mounts (caches, /dev/shm). */
  binds: string[]
  privileged: boolean
  devices: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>
  capAdd: string[]
  /** A network of the task's own (the taskcluster-proxy feature), instead of the default bridge. */
  network?: TaskNetwork
  log: TaskLog
  signal: AbortSignal
  /** Called when the container exists (so cleanup can remove it whatever happens next). */
  onCreated: (container: Docker.Container) => void
}

/** Create, attach (TTY: stdout and stderr as one stream, as docker-worker ran them), start, wait. */
export async function runContainer(o: RunOptions): Promise<{ exitCode: number; aborted: boolean }> {
  const container = await docker().createContainer({
    Image: o.image,
    ...(o.command.length > 0 ? { Cmd: o.command } : {}),
    Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
    Tty: true,
    AttachStdin: false,
    Labels: { [TASK_LABEL]: o.label, [WORKER_LABEL]: o.worker },
    HostConfig: {
      ShmSize: 1_800_000_000,
      // `taskcluster` names the worker side of the task's own network, as docker-worker's
      // proxy container was linked under that name.
      ExtraHosts: ['localhost.localdomain:127.0.0.1', ...(o.network ? [`taskcluster:${o.network.gateway}`] : [])],
      ...(o.network ? { NetworkMode: o.network.name } : {}),
      Binds: o.binds,
      Privileged: o.privileged,
      Devices: o.devices,
      CapAdd: o.capAdd,
    },
  })
  o.onCreated(container)
  const stream = await container.attach({ stream: true, stdout: true, stderr: true })
  const ended = new Promise<void>((resolve) => {
    o.log.follow(stream)
    stream.once('end', () => resolve())
    stream.once('error', () => resolve())
  })
  const kill = () => void container.kill().catch(() => undefined)
  o.signal.addEventListener('abort', kill, { once: true })
  try {
    if (o.signal.aborted) return { exitCode: -1, aborted: true }
    await container.start()
    // If the engine dies, its wait request may never answer: the attach stream ending while the
    // engine no longer answers a ping settles the run instead.
    const engineGone = new Promise<never>((_resolve, reject) => {
      void ended.then(async () => {
        if (!(await engineAnswers())) reject(new Error('lost the connection to the Docker engine'))
      })
    })
    engineGone.catch(() => undefined) // handled by the race below; never an unhandled rejection
    const { StatusCode } = (await Promise.race([container.wait(), engineGone])) as { StatusCode: number }
    await ended
    return o.signal.aborted ? { exitCode: -1, aborted: true } : { exitCode: StatusCode, aborted: false }
  } finally {
    o.signal.removeEventListener('abort', kill)
  }
}

/** Whether the engine answers a ping within a few seconds. */
export async function engineAnswers(): Promise<boolean> {
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000).unref())
  return Promise.race([docker().ping().then(() => true, () => false), timeout])
}

/** Containers and networks whose removal failed (the engine was away), retried before a later task. */
export interface Leftovers {
  containers: Set<string>
  networks: Set<string>
}

export async function removeLeftovers(leftovers: Leftovers): Promise<void> {
  for (const id of leftovers.containers) {
    await docker()
      .getContainer(id)
      .remove({ force: true, v: true })
      .then(
        () => leftovers.containers.delete(id),
        (err: { statusCode?: number }) => err.statusCode === 404 && leftovers.containers.delete(id),
      )
  }
  for (const name of leftovers.networks) {
    await docker()
      .getNetwork(name)
      .remove()
      .then(
        () => leftovers.networks.delete(name),
        (err: { statusCode?: number }) => err.statusCode === 404 && leftovers.networks.delete(name),
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
export async function createTaskNetwork(label: string, worker: string): Promise<TaskNetwork> {
  const name = `megalodon-${label}`
  const network = await docker().createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [TASK_LABEL]: label, [WORKER_LABEL]: worker } })
  const info = (await network.inspect()) as { IPAM?: { Config?: Array<{ Gateway?: string }> } }
  const gateway = info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway
  if (!gateway) {
    await network.remove().catch(() => undefined)
    throw new Error(`docker network ${name} has no gateway address`)
  }
  return { name, gateway }
}

export async function removeTaskNetwork(network: TaskNetwork): Promise<void> {
  await docker().getNetwork(network.name).remove()
}

/** Remove every task container and network this worker left (after a crash: they carry its label). */
export async function removeWorkerContainers(worker: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${WORKER_LABEL}=${worker}`] })
  const containers = await docker().listContainers({ all: true, filters })
  await Promise.all(containers.map((c) => docker().getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)))
  const networks = await docker().listNetworks({ filters })
  await Promise.all(networks.map((n) => docker().getNetwork(n.Id).remove().catch(() => undefined)))
}

/** A `docker exec` with a TTY in a running container: the interactive feature's terminal. */
export async function execTerminal(container: Docker.Container, command: string[], size: TerminalSize): Promise<Terminal> {
  const exec = await container.exec({ Cmd: command, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true })
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex
  await exec.resize({ h: size.rows, w: size.cols }).catch(() => undefined)
  let ended = false
  return {
    write: (data) => {
      if (!ended) stream.write(data)
    },
    resize: ({ cols, rows }) => void exec.resize({ h: rows, w: cols }).catch(() => undefined),
    onData: (listener) => void stream.on('data', (chunk: Buffer) => listener(chunk)),
    onExit: (listener) => {
      const done = () => {
        if (ended) return
        ended = true
        void exec.inspect().then(
          (info) => listener(typeof info.ExitCode === 'number' ? info.ExitCode : -1),
          () => listener(-1),
        )
      }
      stream.once('end', done)
      stream.once('close', done)
    },
    pause: () => void stream.pause(),
    resume: () => void stream.resume(),
    // Closing the exec's stream hangs up its TTY: the shell gets SIGHUP.
    kill: () => stream.destroy(),
  }
}
