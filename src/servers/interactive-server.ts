// The interactive shell's websocket endpoint: one server per worker, one unguessable path per
// task (`/shell/<token>`). The wire protocol is generic-worker's, the one the current Taskcluster
// UI's shell page speaks (its `v=2`; `ui/src/components/Shell/index.jsx:56-110`):
// - client → worker: binary messages whose first byte is the type, 1 = bytes for the terminal
//   (the rest of the message), 2 = resize (rows, then columns, 16-bit little-endian at bytes
//   1-4); any other type is ignored (interactive/interactivejob.go:14-17,119-137, and
//   interactivejob_posix.go:223-228 for rows-then-columns);
// - worker → client: the terminal's output, raw, in binary messages (interactivejob.go:82); a
//   terminal that cannot be opened is reported as its error's text, then the socket closes
//   (interactivejob.go:142-148).
// The UI's `v=1` (docker-exec-websocket-server's framing) is refused by the current UI
// (index.jsx:50-55) and nothing upstream speaks it any more: it is not served.
//
// Where this differs from generic-worker, deliberately: a resize to 0 rows or columns is
// ignored (node-pty throws on it: security M1), and so is an empty message (generic-worker
// stops reading the session's input after one, interactivejob.go:115-117, leaving a shell that
// prints but cannot be typed into).

import { guardServer, refuse, requestUrl } from './guard.js'
import { listenOrAnyPort } from './listen.js'
import http from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { OpenTerminal, Terminal } from '../contract/terminal.js'

/** The message types a client sends (interactivejob.go:14-17). */
export const MSG = { stdin: 1, resize: 2 } as const

/** Bytes queued to a client before the terminal is paused. */
const HIGH_WATER = 1024 * 1024
/** The size a terminal has until the client's first resize. */
const INITIAL_SIZE = { cols: 80, rows: 24 }

interface Endpoint {
  open: OpenTerminal
  sockets: Set<WebSocket>
}

export class InteractiveServer {
  private readonly server = guardServer(http.createServer((req, res) => this.plainRequest(req, res)))
  // a message is keystrokes or a resize: ws's default (100 MiB per message) is no bound for untrusted input
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })
  private readonly endpoints = new Map<string, Endpoint>()

  constructor() {
    this.server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => socket.destroy())
      const url = requestUrl(req.url)
      if (!url) return refuse(socket, 400, 'Bad Request')
      if (!url.pathname.startsWith('/shell/')) return refuse(socket, 404, 'Not Found')
      const endpoint = this.endpointOf(url.pathname)
      // a wrong secret learns nothing: generic-worker's answer (interactive/interactive.go:53-56)
      if (!endpoint) return accessDenied(socket)
      this.wss.handleUpgrade(req, socket, head, (ws) => void this.session(ws, endpoint))
    })
  }

  /** Listen on host:port, or any free port when it is taken (`onBusy` hears why). */
  start(host: string, port: number, onBusy?: (err: unknown) => void): Promise<number> {
    return listenOrAnyPort(this.server, host, port, onBusy)
  }

  async stop(): Promise<void> {
    for (const token of [...this.endpoints.keys()]) this.close(token)
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Accept sessions on /shell/<token> until close(token). */
  serve(token: string, open: OpenTerminal): void {
    this.endpoints.set(token, { open, sockets: new Set() })
  }

  /** The task ended: close every session (their terminals end), refuse new ones. */
  close(token: string): void {
    const endpoint = this.endpoints.get(token)
    this.endpoints.delete(token)
    for (const ws of endpoint?.sockets ?? []) ws.close(1000, 'task finished')
  }

  private endpointOf(pathname: string): Endpoint | undefined {
    const token = pathname.slice('/shell/'.length)
    return /^[A-Za-z0-9_-]+$/.test(token) ? this.endpoints.get(token) : undefined
  }

  /** A request without an upgrade: what generic-worker's mux and upgrader answer. */
  private plainRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = requestUrl(req.url)
    if (!url || !url.pathname.startsWith('/shell/')) return void res.writeHead(404).end()
    if (!this.endpointOf(url.pathname)) return void res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('Access denied\n')
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request\n')
  }

  private async session(ws: WebSocket, endpoint: Endpoint): Promise<void> {
    // a frame ws refuses (bad opcode, bad mask, too large) fails this session, not the worker
    ws.on('error', () => ws.terminate())
    endpoint.sockets.add(ws)
    // the UI resizes as soon as the socket opens (index.jsx:92-96), while the terminal is still
    // being opened: what comes meanwhile is applied once it is (up to a bound)
    const early: Buffer[] = []
    let earlyBytes = 0
    const queue = (raw: Buffer) => {
      earlyBytes += raw.length
      if (earlyBytes <= HIGH_WATER) early.push(Buffer.from(raw))
    }
    ws.on('message', queue)
    let terminal: Terminal
    try {
      terminal = await endpoint.open(undefined, INITIAL_SIZE)
    } catch (err) {
      endpoint.sockets.delete(ws)
      // generic-worker's words for a shell it cannot start (interactive/interactivejob_posix.go:33)
      if (ws.readyState === ws.OPEN) ws.send(Buffer.from(`Error while spawning command ${(err as Error).message}`))
      ws.close(1011, 'cannot open a terminal')
      return
    } finally {
      ws.off('message', queue)
    }
    const term = terminal
    if (ws.readyState !== ws.OPEN) return term.kill()
    for (const msg of early) deliver(term, msg)
    let paused = false
    term.onData((data) => {
      if (ws.readyState !== ws.OPEN) return
      ws.send(data, () => {
        if (paused && ws.bufferedAmount < HIGH_WATER / 2) {
          paused = false
          term.resume()
        }
      })
      if (!paused && ws.bufferedAmount > HIGH_WATER) {
        paused = true
        term.pause()
      }
    })
    term.onExit(() => ws.close(1000, 'terminal exited'))
    ws.on('message', (raw: Buffer) => deliver(term, Buffer.from(raw)))
    ws.on('close', () => {
      endpoint.sockets.delete(ws)
      term.kill()
    })
  }
}

/** Act on one client message (text frames are read as their bytes, as gorilla's ReadMessage does). */
function deliver(terminal: Terminal, msg: Buffer): void {
  try {
    if (msg[0] === MSG.stdin) return terminal.write(msg.subarray(1))
    const size = resizeOf(msg)
    if (size) terminal.resize(size)
  } catch {
    // whatever the client sends, a terminal that refuses it ends nothing but this message
  }
}

/** A resize message's size; undefined for any other message, a short one, or a 0 in it. */
function resizeOf(msg: Buffer): { rows: number; cols: number } | undefined {
  if (msg[0] !== MSG.resize || msg.length < 5) return undefined
  const size = { rows: msg.readUInt16LE(1), cols: msg.readUInt16LE(3) }
  // a terminal has at least one row and one column (node-pty throws on 0: security M1)
  return size.rows > 0 && size.cols > 0 ? size : undefined
}

/** generic-worker's `http.Error(w, "Access denied", 401)`, on a socket that asked to upgrade. */
function accessDenied(socket: Duplex): void {
  if (!socket.writable) return void socket.destroy()
  const body = 'Access denied\n'
  socket.end(`HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`, () => socket.destroy())
}
