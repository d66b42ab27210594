// The interactive shell's websocket endpoint: one server per worker, one unguessable path per
// task (`/shell/<token>`). The wire protocol is docker-exec-websocket-server's, the one the
// Taskcluster UI's shell page speaks to both legacy workers: binary messages whose first byte is
// the type — 0 stdin, 1 stdout, 2 stderr (payload follows), 100 resume, 101 pause, 110 resize
// (rows then columns, 16-bit little-endian), 200 stopped (payload: the exit code byte), 201
// shutdown, 202 error. The query string may name the command (`command=a&command=b`).

import { guardServer, refuse, requestUrl } from './guard.js'
import { listenOrAnyPort } from './listen.js'
import http from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'
import type { OpenTerminal, Terminal } from '../contract/terminal.js'

export const MSG = { stdin: 0, stdout: 1, stderr: 2, resume: 100, pause: 101, resize: 110, stopped: 200, shutdown: 201, error: 202 } as const

/** Bytes queued to a client before the terminal is paused. */
const HIGH_WATER = 1024 * 1024

interface Endpoint {
  open: OpenTerminal
  sockets: Set<WebSocket>
}

export class InteractiveServer {
  private readonly server = guardServer(http.createServer((_req, res) => res.writeHead(404).end()))
  // a message is keystrokes or a resize: ws's default (100 MiB per message) is no bound for untrusted input
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })
  private readonly endpoints = new Map<string, Endpoint>()

  constructor() {
    this.server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => socket.destroy())
      const url = requestUrl(req.url)
      if (!url) return refuse(socket, 400, 'Bad Request')
      const endpoint = /^\/shell\/([A-Za-z0-9_-]+)$/.exec(url.pathname) ? this.endpoints.get(url.pathname.slice('/shell/'.length)) : undefined
      // a wrong secret learns nothing
      if (!endpoint) return refuse(socket, 404, 'Not Found')
      this.wss.handleUpgrade(req, socket, head, (ws) => void this.session(ws, endpoint, url.searchParams.getAll('command')))
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

  /** The task ended: tell every client, end their terminals, refuse new sessions. */
  close(token: string): void {
    const endpoint = this.endpoints.get(token)
    this.endpoints.delete(token)
    for (const ws of endpoint?.sockets ?? []) {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.from([MSG.shutdown]))
      ws.close(1000, 'task finished')
    }
  }

  private async session(ws: WebSocket, endpoint: Endpoint, command: string[]): Promise<void> {
    // a frame ws refuses (bad opcode, bad mask, too large) fails this session, not the worker
    ws.on('error', () => ws.terminate())
    endpoint.sockets.add(ws)
    let terminal: Terminal
    try {
      terminal = await endpoint.open(command.length > 0 ? command : undefined, { cols: 80, rows: 24 })
    } catch (err) {
      ws.send(Buffer.concat([Buffer.from([MSG.error]), Buffer.from((err as Error).message)]))
      ws.close(1011, 'cannot open a terminal')
      endpoint.sockets.delete(ws)
      return
    }
    let paused = false
    terminal.onData((data) => {
      if (ws.readyState !== ws.OPEN) return
      ws.send(Buffer.concat([Buffer.from([MSG.stdout]), data]), () => {
        if (paused && ws.bufferedAmount < HIGH_WATER / 2) {
          paused = false
          terminal.resume()
        }
      })
      if (!paused && ws.bufferedAmount > HIGH_WATER) {
        paused = true
        terminal.pause()
      }
    })
    terminal.onExit((code) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.from([MSG.stopped, code & 0xff]))
      ws.close(1000, 'terminal exited')
    })
    ws.on('message', (raw: Buffer, isBinary: boolean) => {
      const msg = isBinary ? raw : Buffer.from(raw)
      if (msg.length === 0) return
      try {
        this.onMessage(terminal, msg)
      } catch {
        // whatever the client sends, a terminal that refuses it ends nothing but this message
      }
    })
    ws.on('close', () => {
      endpoint.sockets.delete(ws)
      terminal.kill()
    })
    ws.send(Buffer.from([MSG.resume]))
  }

  private onMessage(terminal: Terminal, msg: Buffer): void {
      switch (msg[0]) {
        case MSG.stdin:
          terminal.write(msg.subarray(1))
          break
        case MSG.resize: {
          if (msg.length < 5) break
          const size = { rows: msg.readUInt16LE(1), cols: msg.readUInt16LE(3) }
          // a terminal has at least one row and one column (node-pty throws on 0)
          if (size.rows > 0 && size.cols > 0) terminal.resize(size)
          break
        }
        case MSG.pause:
          terminal.pause()
          break
        case MSG.resume:
          terminal.resume()
          break
      }
  }
}
