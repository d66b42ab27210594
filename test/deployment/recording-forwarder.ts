// A forwarder in front of a Taskcluster root URL that records which API method each request
// was and what it answered, so the same scenario's Queue calls can be compared between the
// fake Queue and a real deployment. Requests pass unchanged (Host included, so Hawk signatures
// made for the forwarder's address still verify where the services trust the Host header, as
// the loopback deployment's front door does).

import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import apis from 'taskcluster-client/src/apis.js'

interface ApiEntry {
  type: string
  method: string
  name: string
  route: string
}
interface ApiReference {
  reference: { serviceName: string; apiVersion: string; entries: ApiEntry[] }
}

export interface RecordedCall {
  /** `Queue.createArtifact`, or `GET /path` for what is not an API method. */
  method: string
  status: number
  path: string
  /** The Hawk id the request was signed with (a client id), if signed. */
  hawkId?: string
  /** When it arrived (Date.now()). */
  at: number
}

const matchers: Array<{ name: string; method: string; pattern: RegExp }> = []
for (const [service, api] of Object.entries(apis as unknown as Record<string, ApiReference>)) {
  const { serviceName, apiVersion, entries } = api.reference
  for (const e of entries) {
    if (e.type !== 'function') continue
    const source = e.route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]+>/g, '[^/]+')
    matchers.push({ name: `${service}.${e.name}`, method: e.method.toUpperCase(), pattern: new RegExp(`^/api/${serviceName}/${apiVersion}${source}$`) })
  }
}

export function apiMethodOf(method: string, path: string): string {
  const bare = path.split('?')[0]!
  return matchers.find((m) => m.method === method && m.pattern.test(bare))?.name ?? `${method} ${bare}`
}

export class RecordingForwarder {
  readonly calls: RecordedCall[] = []
  private server: Server | undefined
  private readonly target: URL

  constructor(targetRootUrl: string) {
    this.target = new URL(targetRootUrl)
    if (this.target.protocol !== 'http:') throw new Error(`the recording forwarder speaks plain HTTP only (${targetRootUrl})`)
  }

  get rootUrl(): string {
    const addr = this.server?.address() as AddressInfo | undefined
    if (!addr) throw new Error('forwarder not started')
    return `http://127.0.0.1:${addr.port}`
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.forward(req, res))
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    return this
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/'
    const call: RecordedCall = { method: apiMethodOf(req.method ?? 'GET', path), status: 0, path, at: Date.now() }
    const hawkId = /^Hawk .*\bid="([^"]*)"/.exec(req.headers.authorization ?? '')?.[1]
    if (hawkId) call.hawkId = hawkId
    this.calls.push(call)
    const upstream = http.request({ host: this.target.hostname, port: this.target.port || 80, method: req.method, path, headers: req.headers }, (answer) => {
      call.status = answer.statusCode ?? 0
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => {
      call.status = 502
      if (!res.headersSent) res.writeHead(502).end()
      else res.destroy()
    })
    req.pipe(upstream)
  }
}
