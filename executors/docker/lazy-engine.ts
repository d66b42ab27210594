// The real engine's client, loaded the first time something needs it. dockerode and what it
// pulls in (docker-modem, ssh2, grpc, protobufjs) are about 30 MiB of resident memory: a worker
// whose pool sends only native tasks, or one waiting for its first docker task, should not carry
// them (bench/imports.ts prints the figure).
import { request } from 'node:http'
import type { DockerEngine } from './engine.js'

type Group = 'images' | 'containers' | 'networks'

export function lazyDockerEngine(load: () => Promise<DockerEngine> = async () => (await import('./dockerode-engine.js')).dockerodeEngine()): DockerEngine {
  let loaded: Promise<DockerEngine> | undefined
  const engine = () => (loaded ??= load())
  // Every method of a group forwards to the loaded client's; the interface stays the one contract.
  const group = <G extends Group>(name: G) =>
    new Proxy({} as DockerEngine[G], {
      get: (_, method: string) =>
        async (...args: unknown[]) => {
          const target = (await engine())[name] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
          return target[method]!(...args)
        },
    })
  return {
    ping: async () => (await engine()).ping(),
    images: group('images'),
    containers: group('containers'),
    networks: group('networks'),
  }
}

/**
 * Whether the local engine has containers or networks carrying `label=value`, asked with one
 * plain request each over the engine's unix socket (the Engine API's list filters), so a worker
 * that starts with nothing to clean up never loads the client. `undefined` when the question
 * cannot be asked this way (DOCKER_HOST names a TCP or SSH engine, or the engine's answer is not
 * one understood here): the caller then does the full sweep through the client, as before. No
 * socket, or nobody listening on it, is `false`.
 */
export async function engineHasLabelled(label: string, value: string): Promise<boolean | undefined> {
  const host = process.env.DOCKER_HOST
  if (host && !host.startsWith('unix://')) return undefined
  const socketPath = host ? host.slice('unix://'.length) : '/var/run/docker.sock'
  const filters = encodeURIComponent(JSON.stringify({ label: [`${label}=${value}`] }))
  try {
    for (const path of [`/containers/json?all=true&filters=${filters}`, `/networks?filters=${filters}`]) {
      if ((await listLength(socketPath, path)) > 0) return true
    }
    return false
  } catch (err) {
    // No engine at that socket (none installed, or its daemon is down): nothing of ours can be
    // running there, and the full sweep could not reach it either; the client stays unloaded,
    // as on a host that runs native tasks only.
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return false
    return undefined
  }
}

/** The length of the JSON array a GET answers; the engine's answers here are small lists. */
function listLength(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 3000 }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        // A list of ids and labels; anything this large is not an answer we understand.
        if (size > 16 * 2 ** 20) req.destroy(new Error('engine answer too large'))
        else chunks.push(c)
      })
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`engine answered ${res.statusCode}`)
          const list: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          if (!Array.isArray(list)) throw new Error('engine answer is not a list')
          resolve(list.length)
        } catch (err) {
          reject(err as Error)
        }
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('engine did not answer')))
    req.on('error', reject)
    req.end()
  })
}
