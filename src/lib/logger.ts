// The worker's own log (not the task log): pino, JSON lines on stderr (human-readable when
// stderr is a terminal), or worker-runner `log` messages once that capability is negotiated.
// stdout stays free for the worker-runner protocol.
import { pino, type DestinationStream, type Logger } from 'pino'

// pino-pretty only for a terminal: a worker under worker-runner or systemd never loads it (issue #18, idle RSS)
const pretty = process.stderr.isTTY ? (await import('pino-pretty')).default : undefined

export type { Logger }

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.MEGALODON_LOG_LEVEL ?? 'info'
  const base = { name: 'megalodon' }
  if (options.destination) return pino({ level, base }, options.destination)
  if (pretty) return pino({ level, base }, pretty({ destination: 2, colorize: true }))
  return pino({ level, base }, pino.destination(2))
}

/** A logger that drops everything (tests, `megalodon local` when quiet). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
