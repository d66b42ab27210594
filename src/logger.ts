// The worker's own log (not the task log): pino, JSON lines on stderr, so stdout stays free
// for the worker-runner protocol.
import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger(options: { level?: string } = {}): Logger {
  return pino({ level: options.level ?? process.env.MEGALODON_LOG_LEVEL ?? 'info', base: { name: 'megalodon' } }, pino.destination(2))
}

/** A logger that drops everything (tests, `megalodon local` when quiet). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
