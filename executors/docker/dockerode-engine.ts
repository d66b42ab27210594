// DockerEngine over the real engine, through dockerode (DOCKER_HOST or /var/run/docker.sock).

import type { Duplex, Readable } from 'node:stream'
import { createRequire } from 'node:module'
import Docker from 'dockerode'
import type { Terminal } from '../../src/contract/terminal.js'
import type { DockerEngine } from './engine.js'

const PING_TIMEOUT_MS = 3000

// The Engine API never redirects a well-formed request; docker-modem follows a redirect as a
// plain URL off the unix socket (to whatever host the Location names: security-audit.md H6),
// on a request with no error listener. No redirect is followed: the request fails instead.
;(createRequire(import.meta.url)('docker-modem/lib/http.js') as { maxRedirects: number }).maxRedirects = 0

/** An engine error's own words (dockerode puts the engine's JSON message in `json`). */
function engineMessage(err: unknown): string {
  return (err as { json?: { message?: string } }).json?.message ?? (err as Error).message
}

const isGone = (err: unknown) => (err as { statusCode?: number }).statusCode === 404

export function dockerodeEngine(docker = new Docker()): DockerEngine {
  const byLabel = (label: string, value: string) => JSON.stringify({ label: [`${label}=${value}`] })
  return {
    async ping() {
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), PING_TIMEOUT_MS).unref())
      return Promise.race([docker.ping().then(() => true, () => false), timeout])
    },

    images: {
      exists: (ref) => docker.getImage(ref).inspect().then(() => true, () => false),
      id: async (ref) => (await docker.getImage(ref).inspect()).Id,
      async config(ref) {
        const { Config } = (await docker.getImage(ref).inspect()) as { Config?: { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null } }
        // a string is a shell form (docker-worker ran it with /bin/sh -c: src/task.js:446-447)
        const argv = (v: string[] | string | null | undefined) => (typeof v === 'string' ? ['/bin/sh', '-c', v] : (v ?? []))
        return { entrypoint: argv(Config?.Entrypoint), cmd: argv(Config?.Cmd) }
      },
      async pull(ref, auth, progress) {
        const stream = await docker.pull(ref, auth ? { authconfig: auth } : {})
        await new Promise<void>((resolve, reject) => {
          docker.modem.followProgress(
            stream,
            (err: Error | null) => (err ? reject(err) : resolve()),
            (event: { status?: string; id?: string; error?: string }) => {
              if (event.error) {
                progress({ error: event.error })
                reject(new Error(event.error))
              } else progress({ status: event.status, id: event.id })
            },
          )
        })
      },
      async load(tar) {
        const response = (await docker.loadImage(tar)) as NodeJS.ReadableStream
        const text = await new Promise<string>((resolve, reject) => {
          let out = ''
          response.on('data', (c: Buffer) => (out += c.toString()))
          response.on('end', () => resolve(out))
          response.on('error', reject)
        })
        const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { stream?: string; error?: string })
        const failure = lines.find((l) => l.error)
        if (failure) throw new Error(`docker load: ${failure.error}`)
        const loadedLine = lines.map((l) => l.stream ?? '').reverse().find((s) => s.startsWith('Loaded image'))
        const m = /^Loaded image(?: ID)?: (\S+)/.exec(loadedLine ?? '')
        if (!m) throw new Error(`docker load did not say what it loaded: ${text.slice(0, 300)}`)
        return m[1]!
      },
      remove: async (ref) => {
        await docker.getImage(ref).remove()
      },
    },

    containers: {
      async create(spec) {
        const container = await docker.createContainer({
          Image: spec.image,
          ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
          ...(spec.command.length > 0 ? { Cmd: spec.command } : {}),
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          Tty: true,
          AttachStdin: false,
          Labels: spec.labels,
          HostConfig: {
            ShmSize: spec.shmSizeBytes,
            ExtraHosts: spec.extraHosts,
            ...(spec.network ? { NetworkMode: spec.network } : {}),
            Binds: spec.binds,
            Privileged: spec.privileged,
            Devices: spec.devices,
            CapAdd: spec.capAdd,
          },
        })
        return container.id
      },
      attach: async (id) => (await docker.getContainer(id).attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable,
      start: async (id) => void (await docker.getContainer(id).start()),
      wait: async (id) => ((await docker.getContainer(id).wait()) as { StatusCode: number }).StatusCode,
      kill: async (id) => void (await docker.getContainer(id).kill()),
      async remove(id) {
        await docker
          .getContainer(id)
          .remove({ force: true, v: true })
          .catch((err: unknown) => {
            if (!isGone(err)) throw err
          })
      },
      async archive(id, path) {
        try {
          return (await docker.getContainer(id).getArchive({ path })) as Readable
        } catch (err) {
          throw new Error(engineMessage(err), { cause: err })
        }
      },
      async exec(id, command, size) {
        const exec = await docker.getContainer(id).exec({ Cmd: command, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true })
        const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex
        await exec.resize({ h: size.rows, w: size.cols }).catch(() => undefined)
        return execTerminal(exec, stream)
      },
      listByLabel: async (label, value) => (await docker.listContainers({ all: true, filters: byLabel(label, value) })).map((c) => c.Id),
      imageIds: async () => new Set((await docker.listContainers({ all: true })).map((c) => c.ImageID)),
    },

    networks: {
      async create(name, labels) {
        const network = await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels })
        const info = (await network.inspect()) as { IPAM?: { Config?: Array<{ Gateway?: string }> } }
        const gateway = info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway
        if (!gateway) {
          await network.remove().catch(() => undefined)
          throw new Error(`docker network ${name} has no gateway address`)
        }
        return { name, gateway }
      },
      async remove(name) {
        await docker
          .getNetwork(name)
          .remove()
          .catch((err: unknown) => {
            if (!isGone(err)) throw err
          })
      },
      listByLabel: async (label, value) => (await docker.listNetworks({ filters: byLabel(label, value) })).map((n) => n.Id),
    },
  }
}

/** The terminal of a `docker exec` whose stream is hijacked. */
function execTerminal(exec: Docker.Exec, stream: Duplex): Terminal {
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
