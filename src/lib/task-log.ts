// The task log: one file per run, written in batches (never a syscall per line), with sinks
// that see every byte (stdout for `megalodon local`, the live log later). The line format of
// worker-written lines is a LogFormat, so each payload family can keep its legacy look.

import { open, type FileHandle } from 'node:fs/promises'

export interface LogFormat {
  /** Format one informational line written by the worker. */
  info(line: string, now: Date): string
  warn(line: string, now: Date): string
  error(line: string, now: Date): string
  /**
   * Whether a worker line after output that did not end in a newline starts a line of its own
   * (default true). generic-worker inserts nothing: its prefix follows the output (main.go:1056-1065).
   */
  readonly ownLine?: boolean
  /**
   * Worker messages are written as the format makes them: no newline is inserted after output
   * that did not end in one, and only a message's first line gets the prefix (docker-worker's
   * fmtLog/fmtErrorLog). Otherwise every line is prefixed and starts a line of its own.
   */
  readonly asWritten?: boolean
}

export type LogSink = (chunk: Buffer) => void

export interface TaskLogOptions {
  /** Flush when this many bytes are pending. Default 64 KiB. */
  flushBytes?: number
  /** Flush at the latest this long after the first pending byte. Default 50 ms. */
  flushMs?: number
  /** Clock, for tests. */
  now?: () => Date
}

/** Bytes of task output that may wait for the disk before the output's source is paused. */
const HIGH_WATER = 4 * 1024 * 1024

export class TaskLog {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  private sinks = new Set<LogSink>()
  private closeListeners: Array<() => void> = []
  private total = 0
  private atLineStart = true
  private closed = false
  private writeError: unknown
  /** Bytes accepted but not yet on disk: above HIGH_WATER, sources are paused (see follow()). */
  private unwritten = 0
  private drainWaiters: Array<() => void> = []
  private readonly flushBytes: number
  private readonly flushMs: number
  readonly now: () => Date

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly format: LogFormat,
    options: TaskLogOptions,
  ) {
    this.flushBytes = options.flushBytes ?? 64 * 1024
    this.flushMs = options.flushMs ?? 50
    this.now = options.now ?? (() => new Date())
  }

  static async open(path: string, format: LogFormat, options: TaskLogOptions = {}): Promise<TaskLog> {
    const fh = await open(path, 'w', 0o600)
    return new TaskLog(path, fh, format, options)
  }

  /** Raw bytes from the task (command output). */
  write(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (buf.length === 0 || this.closed) return
    this.atLineStart = buf[buf.length - 1] === 0x0a
    this.enqueue(buf)
  }

  info(message: string): void {
    this.lines(message, (l, now) => this.format.info(l, now))
  }

  warn(message: string): void {
    this.lines(message, (l, now) => this.format.warn(l, now))
  }

  error(message: string): void {
    this.lines(message, (l, now) => this.format.error(l, now))
  }

  /** Every line of a (possibly multi-line) worker message gets the prefix, unless the format writes messages as they are. */
  private lines(message: string, fmt: (line: string, now: Date) => string): void {
    if (this.closed) return
    const now = this.now()
    if (this.format.asWritten) {
      this.write(fmt(message, now) + '\n')
      return
    }
    const text = message.split('\n').map((l) => fmt(l, now) + '\n').join('')
    // Worker lines start on a line of their own, even after output without a newline, unless
    // the family's format says otherwise.
    this.write((this.atLineStart || this.format.ownLine === false ? '' : '\n') + text)
  }

  /**
   * Copy a stream (a command's stdout, a container's output) into the log with backpressure: the
   * source is paused while too much is waiting for the disk, so a task printing faster than the
   * disk takes never makes the worker's memory grow.
   */
  follow(source: NodeJS.ReadableStream): void {
    source.on('data', (chunk: Buffer | string) => {
      this.write(chunk)
      if (this.unwritten > HIGH_WATER && !this.closed) {
        source.pause()
        void this.drained().then(() => source.resume())
      }
    })
  }

  /** Resolves once the bytes waiting for the disk are down to half the high-water mark. */
  private drained(): Promise<void> {
    if (this.unwritten <= HIGH_WATER / 2 || this.closed) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  /** Every byte ever written (flushed to disk or not). */
  get bytesWritten(): number {
    return this.total
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Called once the log is complete on disk (after the footer). */
  onClose(listener: () => void): void {
    if (this.closed) listener()
    else this.closeListeners.push(listener)
  }

  addSink(sink: LogSink): () => void {
    this.sinks.add(sink)
    return () => this.sinks.delete(sink)
  }

  private enqueue(buf: Buffer): void {
    this.total += buf.length
    this.unwritten += buf.length
    for (const sink of this.sinks) {
      try {
        sink(buf)
      } catch {
        // A sink (a live-log reader, stdout) must never break the task log.
      }
    }
    this.pending.push(buf)
    this.pendingBytes += buf.length
    // flush() never rejects: a write error is kept in writeError for sync() and close()
    if (this.pendingBytes >= this.flushBytes) void this.flush()
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs)
  }

  private flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.pending.length === 0) return this.writing
    const data = Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    this.writing = this.writing.then(async () => {
      try {
        await this.fh.write(data)
      } catch (err) {
        this.writeError ??= err
      }
      this.unwritten -= data.length
      if (this.unwritten <= HIGH_WATER / 2) for (const resolve of this.drainWaiters.splice(0)) resolve()
    })
    return this.writing
  }

  /** Flush everything written so far to disk. */
  async sync(): Promise<void> {
    await this.flush()
    if (this.writeError) throw this.writeError
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.flush()
    this.closed = true
    for (const resolve of this.drainWaiters.splice(0)) resolve()
    this.sinks.clear()
    await this.fh.close()
    for (const listener of this.closeListeners.splice(0)) listener()
    if (this.writeError) throw this.writeError
  }
}
