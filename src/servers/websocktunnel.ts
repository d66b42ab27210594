// A local port exposed through websocktunnel, as generic-worker exposes its live log and
// interactive servers when `wstServerURL` and `wstAudience` are set (main.go:342-358,
// expose/wst.go): a tunnel client id `<workerGroup>.<workerId>.<port>`, a token from the Auth
// service's websocktunnelToken (scope `auth:websocktunnel-token:<wstAudience>/<id>`), a websocket
// to the server with `Authorization: Bearer <token>` and `x-websocktunnel-id` (client.go
// connectWithRetry), the public URL from the `x-websocktunnel-client-url` response header, and
// every stream the server opens piped to 127.0.0.1:<port> (expose/portforward.go). A session
// that ends is replaced (client.go reconnect), with a new token once the old one has expired.
//
// megalodon serves every task's live log (and every shell) from one server, so one tunnel per
// server carries them all, where generic-worker opens one per task's port; from outside the URL
// has the same shape, `<client url>/<path>`.

import net from 'node:net'
import { WebSocket } from 'ws'
import type { Logger } from '../lib/logger.js'
import { STREAM_BUFFER_SIZE, WsmuxSession, type WsmuxStream } from '../lib/wsmux.js'

/**
 * What the worker buffers of a stream's incoming bytes (viewers' requests, shell keystrokes):
 * the window it grants the server, less than the server's 4 MiB, which still governs the
 * direction that carries the logs.
 */
const RECEIVE_WINDOW = 256 * 1024

export interface TunnelOptions {
  /** auth.websocktunnelToken(audience, clientId)'s token, with the worker's current credentials. */
  fetchToken: (audience: string, clientId: string) => Promise<string>
  serverUrl: string
  audience: string
  workerGroup: string
  workerId: string
  /** The local port the tunnel's streams go to. */
  targetPort: number
  logger: Logger
  /** client/retry_config.go's defaults: 0.5 s, ×1.5 ± 50 %, at most 60 s apart, 3 min in all. */
  retry?: { initialDelayMs: number; maxDelayMs: number; maxElapsedMs: number }
}

export class TunnelError extends Error {}

/** util.MakeWsURL: http → ws, https → wss. */
export function websocketUrl(url: string): string {
  return url.startsWith('http') ? `ws${url.slice(4)}` : url
}

/** util.IsTokenUsable: a JWT whose exp and nbf hold now. */
export function tokenUsable(token: string | undefined, now = Date.now()): boolean {
  if (!token) return false
  const part = token.split('.')[1]
  if (!part) return false
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: number; nbf?: number }
    const secs = now / 1000
    return (claims.exp === undefined || secs < claims.exp) && (claims.nbf === undefined || secs >= claims.nbf)
  } catch {
    return false
  }
}

interface Dialed {
  ws?: WebSocket
  url?: string
  status?: number
  error?: Error
}

export class WebsocktunnelExposure {
  readonly clientId: string
  private token: string | undefined
  private session: WsmuxSession | undefined
  private publicUrl: string | undefined
  private connecting: Promise<string> | undefined
  private closed = false
  private readonly sockets = new Set<net.Socket>()

  constructor(private readonly options: TunnelOptions) {
    this.clientId = `${options.workerGroup}.${options.workerId}.${options.targetPort}`
  }

  /** The tunnel's public URL, connecting (or reconnecting) first if there is no session. */
  url(): Promise<string> {
    if (this.closed) return Promise.reject(new TunnelError('websocktunnel exposure closed'))
    if (this.session && !this.session.isClosed && this.publicUrl) return Promise.resolve(this.publicUrl)
    this.connecting ??= this.connectWithRetry().finally(() => (this.connecting = undefined))
    return this.connecting
  }

  private dial(): Promise<Dialed> {
    return new Promise((resolve) => {
      const ws = new WebSocket(websocketUrl(this.options.serverUrl), {
        headers: { Authorization: `Bearer ${this.token!}`, 'x-websocktunnel-id': this.clientId },
        // no frame is larger than the window granted (DAT) or 9 bytes (the rest)
        maxPayload: RECEIVE_WINDOW + 16,
        handshakeTimeout: 30_000,
        followRedirects: false,
      })
      let url: string | undefined
      ws.once('upgrade', (res) => (url = String(res.headers['x-websocktunnel-client-url'] ?? '')))
      ws.once('open', () => resolve({ ws, url }))
      ws.once('unexpected-response', (_req, res) => {
        res.resume()
        resolve({ status: res.statusCode })
        ws.terminate()
      })
      ws.on('error', (error) => resolve({ error }))
    })
  }

  /** client.go connectWithRetry: retried while the server is unreachable or answers other than 2xx/4xx. */
  private async connectWithRetry(): Promise<string> {
    const retry = this.options.retry ?? { initialDelayMs: 500, maxDelayMs: 60_000, maxElapsedMs: 180_000 }
    if (!tokenUsable(this.token)) this.token = await this.options.fetchToken(this.options.audience, this.clientId)
    const started = Date.now()
    let delay = retry.initialDelayMs
    for (;;) {
      const d = await this.dial()
      if (this.closed) {
        d.ws?.terminate()
        throw new TunnelError('websocktunnel exposure closed')
      }
      if (d.ws) return this.started(d.ws, d.url ?? '')
      const retryable = d.status === undefined || (Math.floor(d.status / 100) !== 4 && Math.floor(d.status / 100) !== 2)
      if (!retryable) throw new TunnelError(d.status === 401 ? `websocktunnel ${this.options.serverUrl} refused the token (401)` : `websocktunnel ${this.options.serverUrl} refused the connection (${d.status})`)
      if (Date.now() - started + delay > retry.maxElapsedMs) throw new TunnelError(`could not connect to websocktunnel ${this.options.serverUrl}: ${d.error?.message ?? `HTTP ${d.status}`}`)
      this.options.logger.warn({ err: d.error, status: d.status, server: this.options.serverUrl }, 'websocktunnel connection failed, retrying')
      await new Promise((r) => setTimeout(r, delay))
      // retry_config.go nextDelay: ×1.5, randomised by ±50 % of the current delay, capped
      const delta = 0.5 * delay
      delay = Math.min(1.5 * delay - delta + Math.random() * (2 * delta + 1), retry.maxDelayMs)
    }
  }

  private started(ws: WebSocket, url: string): string {
    const session = new WsmuxSession(ws, { server: false, bufferSize: RECEIVE_WINDOW, peerBufferSize: STREAM_BUFFER_SIZE })
    this.session = session
    this.publicUrl = url
    session.on('stream', (stream: WsmuxStream) => this.forward(stream))
    session.once('close', () => {
      if (this.session === session) this.session = undefined
      if (this.closed) return
      this.options.logger.info({ clientId: this.clientId }, 'websocktunnel session ended; reconnecting')
      // client.go reconnect: a new session at once, so that live logs and shells keep working
      this.url().catch((err: unknown) => this.options.logger.warn({ err, clientId: this.clientId }, 'websocktunnel reconnect failed'))
    })
    this.options.logger.info({ clientId: this.clientId, url }, 'connected to websocktunnel')
    return url
  }

  /** expose/portforward.go: one TCP connection to the target per stream, bytes copied both ways. */
  private forward(stream: WsmuxStream): void {
    const socket = net.connect(this.options.targetPort, '127.0.0.1')
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    const fail = () => {
      stream.destroy()
      socket.destroy()
    }
    socket.on('error', fail)
    stream.on('error', fail)
    stream.pipe(socket)
    socket.pipe(stream)
  }

  close(): void {
    this.closed = true
    this.session?.close()
    for (const s of this.sockets) s.destroy()
  }
}
