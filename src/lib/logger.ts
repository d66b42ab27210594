// The worker's own log (not the task log): pino, JSON lines on stderr (human-readable when
// stderr is a terminal), or worker-runner `log` messages once that capability is negotiated.
// stdout stays free for the worker-runner protocol.
import { createRequire } from 'node:module'
import { pino, type DestinationStream, type Logger } from 'pino'
import type Pretty from 'pino-pretty'

/** pino-pretty only for a person at a terminal: a worker under worker-runner never loads it. */
const loadPretty = (): typeof Pretty => createRequire(import.meta.url)('pino-pretty') as typeof Pretty

export type { Logger }

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.MEGALODON_LOG_LEVEL ?? 'info'
  const base = { name: 'megalodon' }
  if (options.destination) return pino({ level, base }, options.destination)
  if (process.stderr.isTTY) return pino({ level, base }, loadPretty()({ destination: 2, colorize: true }))
  return pino({ level, base }, pino.destination(2))
}

/** A logger that drops everything (tests, `megalodon local` when quiet). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
