// Live logs served by the worker itself (no livelog binary): one HTTP server per worker,
// one unguessable path per task (`/log/<token>`, the URL shape of Taskcluster's livelog).
// A reader gets everything written so far, then follows until the log closes. Readers that
// keep up are fed from memory; one that falls behind (its socket buffer over a bound) is fed
// from the log file until it catches up, so a slow reader never holds the task or the worker.
// The port faces the internet when publicIP is set and the token is public by design (as
// upstream's livelog), so readers are bounded: at most `maxReadersPerLog` per task log and
// `maxReaders` over all of them (503 beyond), and
// one whose socket has had bytes waiting for `stallMs` without taking any is dropped. A reader
// that is only idle because the task prints nothing is kept.

import { guardServer, requestUrl } from './guard.js'
import { listenOrAnyPort } from './listen.js'
import { open, type FileHandle } from 'node:fs/promises'
import http, { type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { TaskLog } from '../lib/task-log.js'

/** Bytes a live reader may have queued in its socket before it is switched to the file. */
const MAX_QUEUED = 128 * 1024

export interface LiveLogServerOptions {
  /** Readers served at once, over all logs. Default 256. */
  maxReaders?: number
  /** Readers of one task's log at once. Default 64. */
  maxReadersPerLog?: number
  /** A reader with bytes waiting this long and none taken is dropped. Default 60 s. */
  stallMs?: number
}

interface Reader {
  res: ServerResponse
  offset: number
  live: boolean
}

class LiveLogSource {
  private readers = new Set<Reader>()
  ended = false
  /**
   * Readers catching up read the log through one open handle: the task directory (and the
   * file's name) may be removed after the task while a slow reader still needs the bytes.
   */
  private file: Promise<FileHandle> | undefined

  constructor(readonly log: TaskLog, private readonly onEnd: () => void, private readonly stallMs: number) {
    log.addSink((chunk) => this.push(chunk))
    log.onClose(() => {
      this.ended = true
      for (const r of this.readers) if (r.live) this.finish(r)
      this.onEnd()
      this.closeFileIfUnused()
    })
  }

  get readerCount(): number {
    return this.readers.size
  }

  private closeFileIfUnused(): void {
    if (!this.ended || this.readers.size > 0 || !this.file) return
    const file = this.file
    this.file = undefined
    void file.then((fh) => fh.close()).catch(() => undefined)
  }

  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'access-control-allow-origin': '*',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    })
    res.flushHeaders()
    const reader: Reader = { res, offset: 0, live: false }
    this.readers.add(reader)
    dropWhenStalled(res, this.stallMs)
    res.once('close', () => {
      this.readers.delete(reader)
      this.closeFileIfUnused()
    })
    if (!this.file) {
      this.file = open(this.log.path, 'r')
      this.file.catch(() => undefined) // awaited (and its failure handled) in catchUp
    }
    void this.catchUp(reader)
  }

  private push(chunk: Buffer): void {
    for (const r of this.readers) {
      if (!r.live) continue
      if (r.res.writableLength > MAX_QUEUED) {
        r.live = false // too far behind: catch up from the file
        void this.catchUp(r)
        continue
      }
      r.res.write(chunk)
      r.offset += chunk.length
    }
  }

  /** Feed a reader from the log file until it has everything written so far, then go live. */
  private async catchUp(r: Reader): Promise<void> {
    try {
      for (;;) {
        if (r.res.destroyed) return
        await this.log.sync().catch(() => undefined)
        if (r.offset < this.log.bytesWritten) {
          const fh = await this.file!
          for await (const chunk of fh.createReadStream({ start: r.offset, autoClose: false })) {
            const buf = chunk as Buffer
            r.offset += buf.length
            if (!r.res.write(buf)) await once(r.res, 'drain')
          }
        }
        // Synchronous check and switch: no chunk can slip in between.
        if (r.offset >= this.log.bytesWritten) {
          if (this.ended) this.finish(r)
          else r.live = true
          return
        }
      }
    } catch {
      r.res.destroy() // the file went away or the reader hung up
    }
  }

  private finish(r: Reader): void {
    this.readers.delete(r)
    r.res.end()
    this.closeFileIfUnused()
  }
}

/**
 * The socket's inactivity timer fires when nothing was sent or received for `ms`. With bytes
 * still queued that means the reader stopped taking them: drop it. With nothing queued the log
 * is just quiet: keep waiting.
 */
function dropWhenStalled(res: ServerResponse, ms: number): void {
  // On the response, not the socket: with a 'timeout' listener on the response, Node's http
  // server leaves the socket to us instead of destroying it on the first quiet spell.
  res.setTimeout(ms, () => {
    if (res.writableLength > 0 || (res.socket?.writableLength ?? 0) > 0) res.destroy()
  })
}

export class LiveLogServer {
  private readonly sources = new Map<string, LiveLogSource>()
  private server: http.Server | undefined
  private readers = 0
  private readonly maxReaders: number
  private readonly maxReadersPerLog: number
  private readonly stallMs: number

  constructor(options: LiveLogServerOptions = {}) {
    this.maxReaders = options.maxReaders ?? 256
    this.maxReadersPerLog = options.maxReadersPerLog ?? 64
    this.stallMs = options.stallMs ?? 60_000
  }

  /** Listen on host:port (port 0: any free port), or any free port when it is taken (`onBusy` hears why). */
  async start(host: string, port: number, onBusy?: (err: unknown) => void): Promise<number> {
    this.server = guardServer(http.createServer((req, res) => {
      const url = requestUrl(req.url)
      if (!url) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request target\n')
        return
      }
      const m = /^\/log\/([A-Za-z0-9_-]{20,})$/.exec(url.pathname)
      const source = m && req.method === 'GET' ? this.sources.get(m[1]!) : undefined
      if (!source) {
        res.writeHead(m ? 401 : 404, { 'content-type': 'text/plain' }).end(m ? 'unknown or expired log token\n' : 'not found\n')
        return
      }
      if (this.readers >= this.maxReaders || source.readerCount >= this.maxReadersPerLog) {
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10', connection: 'close' }).end('too many live-log readers\n')
        return
      }
      this.readers++
      res.once('close', () => this.readers--)
      source.attach(res)
    }))
    return listenOrAnyPort(this.server, host, port, onBusy)
  }

  /** Serve this task log under /log/<token> until it closes (and readers have caught up). */
  serve(token: string, log: TaskLog): void {
    this.sources.set(token, new LiveLogSource(log, () => this.sources.delete(token), this.stallMs))
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}
