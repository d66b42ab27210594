// worker-runner's protocol (Taskcluster tools/workerproto): newline-terminated `~{json}` lines,
// runner → worker on our stdin, worker → runner on our stdout. The runner opens with `welcome`
// listing its capabilities; we answer `hello` with the ones we share, and only those are used.
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
        this.write({ type: 'hello', capabilities: [...this.negotiated] })
        this.onWelcome()
        return
      }
      case 'graceful-termination':
        if (this.capable('graceful-termination')) this.emit('graceful-termination', { finishTasks: message['finish-tasks'] === true })
        return
      case 'new-credentials':
        if (this.capable('new-credentials') && typeof message['client-id'] === 'string' && typeof message['access-token'] === 'string') {
          const certificate = typeof message.certificate === 'string' && message.certificate ? message.certificate : undefined
          this.emit('new-credentials', { clientId: message['client-id'], accessToken: message['access-token'], ...(certificate ? { certificate } : {}) })
        }
        return
    }
  }

  /** A pino destination: each JSON log line becomes a `log` message (text in `textPayload`). */
  logDestination(fallback: Writable): { write(line: string): void } {
    return {
      write: (line: string) => {
        if (!this.capable('log')) {
          fallback.write(line)
          return
        }
        let body: Record<string, unknown>
        try {
          body = JSON.parse(line) as Record<string, unknown>
        } catch {
          body = {}
        }
        this.write({ type: 'log', body: { ...body, textPayload: typeof body.msg === 'string' ? body.msg : line.trim() } })
      },
    }
  }
}
