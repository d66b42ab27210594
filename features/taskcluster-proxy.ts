// taskcluster-proxy, in process: the task calls Taskcluster APIs through
// $TASKCLUSTER_PROXY_URL (http://127.0.0.1:<port>, taskcluster_proxy_feature.go:230-233) without
// holding credentials; each request is signed (Hawk) with the run's current task credentials —
// swapped on every reclaim — restricted to the task's scopes plus
// `queue:create-artifact:<taskId>/<runId>` (taskcluster_proxy_feature.go:166-176). The routes,
// headers and retries are upstream's proxy's (taskcluster-proxy-routes.ts).

import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import net from 'node:net'
import { pipeline } from 'node:stream/promises'
import Hawk from 'hawk'
import type { Feature, FeatureFactory } from '../src/contract/feature.js'
import type { TaskContext } from '../src/contract/task-context.js'
import { InternalError } from '../src/contract/errors.js'
import { guardServer } from '../src/servers/guard.js'
import { peerUid } from '../src/servers/peer-uid.js'
import { listen } from '../src/servers/listen.js'
import type { Credentials, Reclaimed } from '../src/contract/taskcluster.js'
import { createTaskNetwork, inSubnet, type TaskNetwork } from './docker-bridge.js'
import { bewitUrl, forward, hawkExt, proxyHeaders, routeOf, targetUrl } from './taskcluster-proxy-routes.js'

export { hawkExt, targetUrl } from './taskcluster-proxy-routes.js'

export interface ProxyOptions {
  /** generic-worker's taskclusterProxyPort: the first task's port, the next running task's 4 above, … (port_manager.go:56-83). 0: any free port. */
  port: number
}

/**
 * The ports of a worker's concurrent tasks: each run takes the lowest free slot, port + slot*4
 * (gwconfig/config.go:159-162, port_manager.go:153-160). Upstream's slot is the task's across
 * all its features; here it is counted among the runs that use the proxy.
 */
export function taskclusterProxyFeature(options: ProxyOptions): FeatureFactory {
  const used = new Set<number>()
  const slots = {
    take: () => {
      let slot = 0
      while (used.has(slot)) slot++
      used.add(slot)
      return slot
    },
    release: (slot: number) => used.delete(slot),
  }
  return (ctx, validated) => {
    const wanted = (validated.payload as { taskclusterProxyInterface?: unknown } | undefined)?.taskclusterProxyInterface
    return new TaskclusterProxy(options, slots, ctx.reach === undefined && wanted === 'docker-bridge')
  }
}

/** Request bodies are buffered so that a failed attempt can be retried (routes.go:236-247); larger ones are refused (413). */
const BODY_LIMIT = 8 * 1024 * 1024

class BodyTooLarge extends Error {}

/** The whole body, refused past `limit` (task input is never read without a bound). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > limit) throw new BodyTooLarge(`taskcluster-proxy: request body over ${limit} bytes (megalodon buffers at most 8 MiB to retry it)`)
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

class TaskclusterProxy implements Feature {
  readonly name = 'taskclusterProxy'
  private server: http.Server | undefined
  private listener: net.Server | undefined

  private slot: number | undefined
  /** Between a start that succeeded and stop: generic-worker listens for reclaims only then (taskcluster_proxy_feature.go:287,291). */
  private serving = false
  /** Aborts forwarded calls still waiting or retrying when the run ends. */
  private readonly ended = new AbortController()

  constructor(
    private readonly options: ProxyOptions,
    private readonly slots: { take(): number; release(slot: number): void },
    /** `taskclusterProxyInterface: docker-bridge`: serve a Docker network of the task's own. */
    private readonly bridge: boolean,
  ) {}

  private network: TaskNetwork | undefined

  async start(ctx: TaskContext): Promise<void> {
    this.server = guardServer(http.createServer((req, res) => void this.handle(ctx, req, res)))
    // On multiuser, connections are admitted before http sees a byte: only the task user and
    // root (the worker) may use the task's credentials (upstream's --allowed-user; another task
    // user could otherwise call with this task's scopes or replace its credentials: H9).
    const http_ = this.server
    const admitted = ctx.taskUid
    this.listener = net.createServer({ pauseOnConnect: true }, (socket) => {
      socket.on('error', () => socket.destroy())
      if (admitted === undefined) {
        http_.emit('connection', socket)
        return void socket.resume()
      }
      void peerUid(socket.remoteAddress ?? '', socket.remotePort ?? 0).then(
        (uid) => {
          // a peer in another network namespace (a container) has no socket here: admitted when
          // it is inside the task's own Docker network (upstream's --allowed-network)
          const container = uid === undefined && this.network !== undefined && inSubnet(socket.remoteAddress ?? '', this.network.subnet)
          if (uid === 0 || uid === admitted || container) {
            http_.emit('connection', socket)
            socket.resume()
          } else {
            // upstream closes the connection (connectionverifier.go)
            ctx.log.warn(`taskcluster-proxy: refused a connection from uid ${uid ?? 'unknown'} (only the task user may use it)`)
            socket.destroy()
          }
        },
        () => socket.destroy(),
      )
    })
    // A container reaches the worker at the address its executor gives (its own network's
    // gateway, port 80 as docker-worker's http://taskcluster); a native task at localhost.
    let host = ctx.reach?.listenHost ?? '127.0.0.1'
    if (this.bridge) {
      try {
        this.network = await createTaskNetwork(ctx.taskId, ctx.runId)
      } catch (err) {
        throw new InternalError((err as Error).message, { cause: err })
      }
      host = this.network.gateway
      ctx.env.TASKCLUSTER_DOCKER_NETWORK = this.network.name
      ctx.env.TASKCLUSTER_PROXY_GATEWAY = this.network.gateway
    }
    let wanted = ctx.reach?.portFor('taskcluster')
    if (wanted === undefined) {
      this.slot = this.slots.take()
      wanted = this.options.port === 0 ? 0 : this.options.port + this.slot * 4
    }
    let port: number
    try {
      port = await listen(this.listener, host, wanted)
    } catch (err) {
      // taskcluster_proxy_feature.go:226-227; the task resolves exception/internal-error
      throw new InternalError(`could not start taskcluster proxy on port ${wanted}: ${(err as Error).message}`, { cause: err })
    }
    const url = ctx.reach ? ctx.reach.urlFor('taskcluster', port) : `http://${host}:${port}`
    ctx.env.TASKCLUSTER_PROXY_URL = url
    // no task-log line: neither docker-worker (src/features/taskcluster_proxy.js) nor
    // generic-worker (taskcluster_proxy_feature.go) wrote one (audit-docker-worker row 21,
    // audit-generic-worker row 26)
    this.serving = true
  }

  reclaimed(ctx: TaskContext, reclaimed: Reclaimed): void {
    // the signing already reads ctx.credentials(), so there is nothing to hand over; the family
    // may say so in the task log
    const line = ctx.profile.featureFacts.taskclusterProxy.refreshedLine
    if (this.serving && line) ctx.log.info(line(reclaimed.credentials.clientId))
  }

  async stop(): Promise<void> {
    this.serving = false
    this.ended.abort()
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => (this.listener?.listening ? this.listener.close(() => resolve()) : resolve()))
    if (this.slot !== undefined) this.slots.release(this.slot)
    this.slot = undefined
    await this.network?.remove()
    this.network = undefined
  }

  /** Credentials PUT to /credentials, kept until the next reclaim replaces the run's own. */
  private replaced: { credentials: Credentials; over: Credentials } | undefined

  private current(ctx: TaskContext): Credentials {
    const own = ctx.credentials()
    return this.replaced && this.replaced.over === own ? this.replaced.credentials : own
  }

  /** The task's scopes and what the family adds (both: the run's own create-artifact scope). */
  private scopes(ctx: TaskContext): string[] {
    return [...ctx.task.scopes, ...ctx.profile.featureFacts.taskclusterProxy.extraScopes(ctx.taskId, ctx.runId)]
  }

  private signing(ctx: TaskContext) {
    const c = this.current(ctx)
    return { credentials: { id: c.clientId, key: c.accessToken, algorithm: 'sha256' as const }, ext: hawkExt(c, this.scopes(ctx)) }
  }

  private async handle(ctx: TaskContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = req.url ?? '/'
      const headers = proxyHeaders(this.current(ctx), this.scopes(ctx))
      if ('invalid' in headers) {
        res.writeHead(500).end(headers.invalid)
        return
      }
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
      const route = routeOf(path)
      if (route === 'bewit') return await this.bewit(ctx, req, res)
      if (route === 'credentials') return await this.credentials(ctx, req, res)
      const target = targetUrl(ctx.config.rootURL, path)
      if ('notFound' in target) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(target.notFound)
        return
      }
      res.setHeader('X-Taskcluster-Endpoint', target.url)
      const body = await readBody(req, BODY_LIMIT)
      const method = req.method ?? 'GET'
      let up: IncomingMessage
      try {
        up = await forward({ method, target: target.url, headers: req.headers, body, signal: this.ended.signal, sign: (url, m) => Hawk.client.header(url, m, this.signing(ctx)).header })
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`Failed during proxy request: ${(err as Error).message}`)
        return
      }
      res.writeHead(up.statusCode ?? 502, up.headers)
      await pipeline(up, res)
    } catch (err) {
      try {
        if (!res.headersSent) res.writeHead(err instanceof BodyTooLarge ? 413 : 502, { 'content-type': 'text/plain' })
        res.end(`${err instanceof BodyTooLarge ? '' : 'taskcluster-proxy: '}${(err as Error).message}\n`)
      } catch {
        res.destroy() // the client is gone or the answer half sent: nothing left to tell it
      }
    }
  }

  /** Any method on /bewit*: 303 to the signed URL, the URL also the body (routes.go:101-134). */
  private async bewit(ctx: TaskContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = (await readBody(req, BODY_LIMIT)).toString('utf8').trim()
    let signed: string
    try {
      new URL(url)
      signed = bewitUrl(url, this.signing(ctx).credentials, this.signing(ctx).ext)
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`Error creating bewit url: ${(err as Error).message}`)
      return
    }
    res.writeHead(303, { location: signed, 'content-type': 'text/plain; charset=utf-8' }).end(signed)
  }

  /**
   * /credentials*: PUT `{clientId, accessToken, certificate}` replaces the credentials, 200 with
   * no body; a body that does not decode is 400; any other method 405 (routes.go:137-161).
   */
  private async credentials(ctx: TaskContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'PUT') {
      req.resume()
      res.writeHead(405).end()
      return
    }
    let body: unknown
    try {
      body = JSON.parse((await readBody(req, BODY_LIMIT)).toString('utf8'))
    } catch {
      body = undefined
    }
    const field = (k: string) => (body as Record<string, unknown>)[k]
    const ok = typeof body === 'object' && body !== null && !Array.isArray(body) && ['clientId', 'accessToken', 'certificate'].every((k) => field(k) === undefined || field(k) === null || typeof field(k) === 'string')
    if (!ok) {
      res.writeHead(400).end()
      return
    }
    const str = (k: string) => (typeof field(k) === 'string' ? (field(k) as string) : '')
    const certificate = str('certificate')
    this.replaced = { credentials: { clientId: str('clientId'), accessToken: str('accessToken'), ...(certificate ? { certificate } : {}) }, over: ctx.credentials() }
    res.writeHead(200).end()
  }
}
