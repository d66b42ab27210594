// A logger that keeps the messages logged at info and warn, for tests that check the words.
import { silentLogger, type Logger } from '../../src/lib/logger.js'

export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const logger = silentLogger()
  logger.info = ((msg: unknown) => void lines.push(String(msg))) as typeof logger.info
  // pino's (object, message) form keeps the message
  logger.warn = ((a: unknown, b?: unknown) => void lines.push(typeof a === 'string' ? a : String(b))) as typeof logger.warn
  return { logger, lines }
}
