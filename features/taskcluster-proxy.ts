// taskcluster-proxy, in process: the task calls Taskcluster APIs through
// $TASKCLUSTER_PROXY_URL without holding credentials; each request is signed (Hawk) with the
// run's current task credentials — swapped on every reclaim — restricted to the task's own
// scopes (authorizedScopes). Bodies stream both ways. Paths as upstream's proxy accepts them:
// `/api/<service>/<version>/<path>`, the legacy `/<service>/<version>/<path>`, `POST /bewit`
// and `PUT /credentials`.

import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { pipeline } from 'node:stream/promises'
import Hawk from 'hawk'
import type { Feature, FeatureFactory } from '../src/contract/feature.js'
import type { TaskContext } from '../src/contract/task-context.js'
import { guardServer } from '../src/servers/guard.js'
import { peerUid } from '../src/servers/peer-uid.js'
import { listenOrAnyPort } from '../src/servers/listen.js'
import type { Credentials } from '../src/contract/taskcluster.js'

export interface ProxyOptions {
  /** Port to listen on (generic-worker's taskclusterProxyPort); taken → any free port. 0: any free port. */
  port: number
}

export function taskclusterProxyFeature(options: ProxyOptions): FeatureFactory {
  return () => new TaskclusterProxy(options)
}

/** The Hawk `ext` taskcluster-client sends: the certificate of temporary credentials, and authorizedScopes. */
export function hawkExt(credentials: Credentials, authorizedScopes?: string[]): string | undefined {
  const ext: Record<string, unknown> = {}
  if (credentials.certificate) ext.certificate = JSON.parse(credentials.certificate)
  if (authorizedScopes) ext.authorizedScopes = authorizedScopes
  return Object.keys(ext).length ? Buffer.from(JSON.stringify(ext)).toString('base64') : undefined
}

/** Where a proxy path goes, or undefined when it is not an API path. */
export function targetUrl(rootUrl: string, pathAndQuery: string): string | undefined {
  const m = /^\/(?:api\/)?([a-z][a-z0-9-]*)\/(v\d+)(\/.*)?$/.exec(pathAndQuery.replace(/\?.*$/, ''))
  if (!m) return undefined
  const query = pathAndQuery.includes('?') ? pathAndQuery.slice(pathAndQuery.indexOf('?')) : ''
  return `${rootUrl.replace(/\/$/, '')}/api/${m[1]}/${m[2]}${m[3] ?? '/'}${query}`
}

/** Bytes accepted in a /bewit or /credentials body (a URL, a set of credentials). */
const SMALL_BODY_LIMIT = 64 * 1024

/** A body the proxy reads whole, refused past SMALL_BODY_LIMIT (task input is never read without a bound). */
async function readSmallBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > SMALL_BODY_LIMIT) throw new Error(`request body over ${SMALL_BODY_LIMIT} bytes`)
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

class TaskclusterProxy implements Feature {
  readonly name = 'taskclusterProxy'
  private server: http.Server | undefined
  private listener: net.Server | undefined

  constructor(private readonly options: ProxyOptions) {}

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
          if (uid === 0 || uid === admitted) {
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
    const host = ctx.reach?.listenHost ?? '127.0.0.1'
    const wanted = ctx.reach?.portFor('taskcluster') ?? this.options.port
    const port = await listenOrAnyPort(this.listener, host, wanted)
    const url = ctx.reach ? ctx.reach.urlFor('taskcluster', port) : `http://localhost:${port}`
    ctx.env.TASKCLUSTER_PROXY_URL = url
    ctx.log.info(`Taskcluster proxy listening on ${url}`)
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => (this.listener ? this.listener.close(() => resolve()) : resolve()))
  }

  /** Credentials PUT to /credentials, kept until the next reclaim replaces the run's own. */
  private replaced: { credentials: Credentials; over: Credentials } | undefined

  private current(ctx: TaskContext): Credentials {
    const own = ctx.credentials()
    return this.replaced && this.replaced.over === own ? this.replaced.credentials : own
  }

  private signing(ctx: TaskContext) {
    const c = this.current(ctx)
    const scopes = [...ctx.task.scopes, ...ctx.profile.featureFacts.taskclusterProxy.extraScopes(ctx.taskId, ctx.runId)]
    return { credentials: { id: c.clientId, key: c.accessToken, algorithm: 'sha256' as const }, ext: hawkExt(c, scopes) }
  }

  private async handle(ctx: TaskContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = req.url ?? '/'
      if (path === '/bewit' && req.method === 'POST') {
        const url = (await readSmallBody(req)).toString('utf8').trim()
        const bewit = Hawk.client.getBewit(url, { ...this.signing(ctx), ttlSec: 3600 })
        const signed = `${url}${url.includes('?') ? '&' : '?'}bewit=${bewit}`
        res.writeHead(303, { location: signed, 'content-type': 'text/plain' }).end(signed)
        return
      }
      if (path === '/credentials' && req.method === 'PUT') {
        // upstream's proxy takes new credentials here (docker-worker sent them on reclaim)
        const body = JSON.parse((await readSmallBody(req)).toString('utf8')) as Partial<Credentials>
        if (typeof body.clientId !== 'string' || typeof body.accessToken !== 'string') {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('taskcluster-proxy: expected {clientId, accessToken, certificate?}\n')
          return
        }
        this.replaced = { credentials: { clientId: body.clientId, accessToken: body.accessToken, ...(body.certificate ? { certificate: body.certificate } : {}) }, over: ctx.credentials() }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('Credentials updated\n')
        return
      }
      const target = targetUrl(ctx.config.rootURL, path)
      if (!target) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`taskcluster-proxy: no Taskcluster API at ${path}\n`)
        return
      }
      const { header } = Hawk.client.header(target, req.method ?? 'GET', this.signing(ctx))
      const headers = { ...req.headers, authorization: header, host: new URL(target).host }
      const upstream = (target.startsWith('https:') ? https : http).request(target, { method: req.method, headers })
      const response = new Promise<IncomingMessage>((resolve, reject) => {
        upstream.once('response', resolve)
        upstream.once('error', reject)
      })
      // Awaited below, but the body may fail first (the client aborts): then nobody awaits it,
      // and its rejection must not reach the process (it would end the worker).
      response.catch(() => undefined)
      try {
        await pipeline(req, upstream)
      } catch (err) {
        upstream.destroy()
        throw err
      }
      const up = await response
      res.writeHead(up.statusCode ?? 502, up.headers)
      await pipeline(up, res)
    } catch (err) {
      try {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
        res.end(`taskcluster-proxy: ${(err as Error).message}\n`)
      } catch {
        res.destroy() // the client is gone or the answer half sent: nothing left to tell it
      }
    }
  }
}
