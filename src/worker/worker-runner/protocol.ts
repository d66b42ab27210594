// worker-runner's protocol (Taskcluster tools/workerproto): newline-terminated `~{json}` lines,
// runner → worker on our stdin, worker → runner on our stdout. The runner opens with `welcome`
// listing its capabilities; we answer `hello` with all of ours, as generic-worker does
// (tools/workerproto/protocol.go:67-75, sorted as capabilities.go:26-33 lists them); a message
// is sent only if both sides have its capability (protocol.go:125-128).
// Lines that are not protocol are ignored, as the runner ignores ours.

import { EventEmitter } from 'node:events'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'

export const WORKER_CAPABILITIES = ['graceful-termination', 'new-credentials', 'error-report', 'log', 'shutdown'] as const
export type Capability = (typeof WORKER_CAPABILITIES)[number]

export interface ProtocolMessage {
  type: string
  [key: string]: unknown
}

export interface RunnerProtocolEvents {
  'graceful-termination': [{ finishTasks: boolean }]
  'new-credentials': [{ clientId: string; accessToken: string; certificate?: string }]
  message: [ProtocolMessage]
}

export class RunnerProtocol extends EventEmitter<RunnerProtocolEvents> {
  private negotiated = new Set<string>()
  /** The first graceful-termination received, for listeners that come later. */
  private terminationRequested: { finishTasks: boolean } | undefined
  private welcomed: Promise<void>
  private onWelcome!: () => void

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    super()
    this.welcomed = new Promise((resolve) => (this.onWelcome = resolve))
    const lines = createInterface({ input, crlfDelay: Infinity })
    lines.on('line', (line) => this.receive(line))
    // No runner on the other end (stdin closed): nothing will be negotiated.
    lines.once('close', () => this.onWelcome())
  }

  /** Resolves once `welcome` arrived and `hello` was sent (or after timeoutMs, with nothing negotiated). */
  async ready(timeoutMs = 60_000): Promise<ReadonlySet<string>> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.welcomed, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
    clearTimeout(timer)
    return this.negotiated
  }

  /**
   * Calls `f` for each graceful-termination, and at once with the first one if it came before
   * (the runner may send it while the worker still starts: generic-worker registers its handler
   * when the protocol starts and remembers the request for late callbacks, graceful/graceful.go:46-60,80-95).
   */
  onGracefulTermination(f: (request: { finishTasks: boolean }) => void): void {
    this.on('graceful-termination', f)
    if (this.terminationRequested) f(this.terminationRequested)
  }

  capable(capability: Capability): boolean {
    return this.negotiated.has(capability)
  }

  /** Sends a message if its capability was negotiated; returns whether it was sent. */
  send(capability: Capability, message: ProtocolMessage): boolean {
    if (!this.capable(capability)) return false
    this.write(message)
    return true
  }

  private write(message: ProtocolMessage): void {
    this.output.write(`~${JSON.stringify(message)}\n`)
  }

  private receive(line: string): void {
    if (!line.startsWith('~{')) return
    let message: ProtocolMessage
    try {
      message = JSON.parse(line.slice(1)) as ProtocolMessage
    } catch {
      return
    }
    if (typeof message.type !== 'string') return
    this.emit('message', message)
    switch (message.type) {
      case 'welcome': {
        const offered = Array.isArray(message.capabilities) ? message.capabilities.map(String) : []
        this.negotiated = new Set(WORKER_CAPABILITIES.filter((c) => offered.includes(c)))
        this.write({ type: 'hello', capabilities: [...WORKER_CAPABILITIES].sort() })
        this.onWelcome()
        return
      }
      case 'graceful-termination': {
        if (!this.capable('graceful-termination')) return
        const request = { finishTasks: message['finish-tasks'] === true }
        this.terminationRequested ??= request
        this.emit('graceful-termination', request)
        return
      }
      case 'new-credentials':
        if (this.capable('new-credentials') && typeof message['client-id'] === 'string' && typeof message['access-token'] === 'string') {
          const certificate = typeof message.certificate === 'string' && message.certificate ? message.certificate : undefined
          this.emit('new-credentials', { clientId: message['client-id'], accessToken: message['access-token'], ...(certificate ? { certificate } : {}) })
        }
        return
    }
  }

  /**
   * A pino destination: each JSON log line becomes a `log` message whose body is only
   * `{textPayload}`, as generic-worker sends (workers/generic-worker/workerrunner.go:36-45): the
   * message, then the line's other fields as compact JSON when there are any.
   */
  logDestination(fallback: Writable): { write(line: string): void } {
    return {
      write: (line: string) => {
        if (!this.capable('log')) {
          fallback.write(line)
          return
        }
        this.write({ type: 'log', body: { textPayload: logText(line) } })
      },
    }
  }
}

/** Fields pino adds to every line: not part of the text. */
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg'])

function logText(line: string): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line.trim()
  }
  const msg = typeof record.msg === 'string' ? record.msg : ''
  const rest = Object.fromEntries(Object.entries(record).filter(([k]) => !PINO_FIELDS.has(k)))
  return Object.keys(rest).length > 0 ? `${msg} ${JSON.stringify(rest)}`.trim() : msg
}
