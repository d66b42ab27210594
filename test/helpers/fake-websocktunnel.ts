// A websocktunnel server on 127.0.0.1 for tests, doing what tools/websocktunnel/wsproxy does:
// a client registers with a websocket GET of `/` carrying `x-websocktunnel-id` and
// `Authorization: Bearer <JWT>` (HS256 with the server's secret; `tid` the id, `aud` the
// audience, exp/nbf holding, at most 31 days long: proxy.go validateJWT), and is answered with
// `x-websocktunnel-client-url: <urlPrefix>/<id>`; a viewer's request for `/<id>/<path>` is sent
// over a new wsmux stream to that client as an HTTP request for `<path>` (proxy.go
// serveRequest), or, for a websocket, as a websocket handshake whose messages are bridged
// (wsproxy.go websocketProxy). A client registering again replaces its session.
import { createHmac, timingSafeEqual } from 'node:crypto'
import http, { type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import { WsmuxSession } from '../../src/lib/wsmux.js'

/** websocktunnel's client id format (proxy.go:29), which auth.websocktunnelToken also checks. */
export const CLIENT_ID = /^[a-zA-Z0-9_~.%-]+$/
/** The secret a FakeWebsocktunnel checks tokens with, and the fake Auth signs them with by default. */
export const FAKE_WEBSOCKTUNNEL_SECRET = 'fake-websocktunnel-secret-0123456789'
const MONTH_SECS = 31 * 24 * 3600

export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

function verifyJwt(token: string, secret: string): Record<string, unknown> | undefined {
  const [header, claims, signature] = token.split('.')
  if (!header || !claims || !signature) return undefined
  const alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string }).alg
  const want = createHmac('sha256', secret).update(`${header}.${claims}`).digest()
  const got = Buffer.from(signature, 'base64url')
  if (alg !== 'HS256' || got.length !== want.length || !timingSafeEqual(got, want)) return undefined
  return JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>
}

export interface Registration {
  id: string
  status: number
}

export class FakeWebsocktunnel {
  readonly secret = FAKE_WEBSOCKTUNNEL_SECRET
  readonly audience = 'fake-wst'
  readonly registrations: Registration[] = []
  private readonly sessions = new Map<string, WsmuxSession>()
  private readonly server = http.createServer((req, res) => void this.serveHttp(req, res))
  private readonly wss = new WebSocketServer({ noServer: true })

  /** Listens on 127.0.0.1:`port` (0: any free port). */
  async start(port = 0): Promise<this> {
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head))
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r))
    return this
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** Ends every client's session, as a server restart would. */
  dropSessions(): void {
    for (const s of this.sessions.values()) s.close()
    this.sessions.clear()
  }

  async stop(): Promise<void> {
    this.dropSessions()
    this.server.closeAllConnections()
    await new Promise((r) => this.server.close(r))
  }

  private refuse(socket: Duplex, id: string, status: number): void {
    this.registrations.push({ id, status })
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    const id = String(req.headers['x-websocktunnel-id'] ?? '')
    if (id && req.url === '/') return this.register(req, socket, head, id)
    const target = this.target(req)
    const session = target && this.sessions.get(target.id)
    if (!target || !session) return void socket.end('HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\n\r\n')
    // wsproxy.go: a websocket handshake through a new stream, and the viewer's upgraded
    const stream = await session.open().catch(() => undefined)
    if (!stream) return void socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n')
    const tunnel = new WebSocket(`ws://${String(req.headers.host)}${target.path}`, { createConnection: () => stream as unknown as import('node:net').Socket })
    tunnel.once('error', () => socket.destroy())
    tunnel.once('open', () => {
      this.wss.handleUpgrade(req, socket, head, (viewer) => {
        viewer.on('message', (data, isBinary) => tunnel.send(data, { binary: isBinary }))
        tunnel.on('message', (data, isBinary) => viewer.send(data, { binary: isBinary }))
        viewer.once('close', () => tunnel.close())
        tunnel.once('close', () => viewer.close())
      })
    })
  }

  private register(req: IncomingMessage, socket: Duplex, head: Buffer, id: string): void {
    if (!CLIENT_ID.test(id)) return this.refuse(socket, id, 400)
    const token = /^Bearer +(.+)$/.exec(String(req.headers.authorization ?? ''))?.[1]
    if (!token) return this.refuse(socket, id, 400)
    const claims = verifyJwt(token, this.secret)
    const now = Date.now() / 1000
    const valid =
      claims !== undefined &&
      typeof claims.exp === 'number' &&
      typeof claims.nbf === 'number' &&
      claims.exp > now &&
      claims.nbf <= now &&
      claims.tid === id &&
      claims.exp - claims.nbf <= MONTH_SECS &&
      (claims.aud === undefined || claims.aud === this.audience)
    if (!valid) return this.refuse(socket, id, 401)
    this.sessions.get(id)?.close()
    const onHeaders = (headers: string[]) => headers.push(`x-websocktunnel-client-url: ${this.url}/${id}`)
    this.wss.once('headers', onHeaders)
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.registrations.push({ id, status: 101 })
      const session = new WsmuxSession(ws, { server: true })
      this.sessions.set(id, session)
      session.once('close', () => {
        if (this.sessions.get(id) === session) this.sessions.delete(id)
      })
    })
  }

  private target(req: IncomingMessage): { id: string; path: string } | undefined {
    const s = (req.url ?? '/').replace(/^\//, '')
    const slash = s.indexOf('/')
    const id = slash < 0 ? s : s.slice(0, slash)
    return id ? { id, path: slash < 0 ? '/' : s.slice(slash) } : undefined
  }

  /** proxy.go serveRequest: the request over a new stream, the response streamed back. */
  private async serveHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = this.target(req)
    const session = target && this.sessions.get(target.id)
    if (!target || !session) {
      res.writeHead(504).end('No client is connected with that id')
      return
    }
    const stream = await session.open().catch(() => undefined)
    if (!stream) {
      res.writeHead(500).end()
      return
    }
    const upstream = http.request({ method: req.method, path: target.path, headers: { ...req.headers, 'x-websocktunnel-original-path': req.url }, createConnection: () => stream as unknown as import('node:net').Socket })
    upstream.once('response', (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    upstream.once('error', () => res.destroy())
    req.pipe(upstream)
  }
}
