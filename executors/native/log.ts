// generic-worker's task log: `[taskcluster <time>] …` info lines, `[taskcluster:warn <time>] …`,
// `[taskcluster:error] …` (no time), its header, per-command result block and footer.

import { formatGoDurationMs } from '../../src/lib/go-duration.js'
import { formatBytes, type MemorySummary } from './resource-monitor.js'
import { MalformedPayload, PayloadSchemaInvalid, WorkerError } from '../../src/contract/errors.js'
import type { LogFormat, TaskLog } from '../../src/lib/task-log.js'
import type { RunSummary, TaskContext } from '../../src/contract/task-context.js'
import { payloadSchema } from './schema.js'

export const genericWorkerLogFormat: LogFormat = {
  info: (line, now) => `[taskcluster ${now.toISOString()}] ${line}`,
  warn: (line, now) => `[taskcluster:warn ${now.toISOString()}] ${line}`,
  error: (line) => `[taskcluster:error] ${line}`,
}

export function writeHeader(ctx: TaskContext): void {
  const { config } = ctx
  ctx.log.info(`Worker Type (${config.provisionerId}/${config.workerType}) settings:`)
  ctx.log.info(indent(JSON.stringify(config.workerTypeMetadata, null, 2), '  '))
  ctx.log.info(`Task ID: ${ctx.taskId}`)
}

export function writeTaskStarting(log: TaskLog): void {
  log.info('=== Task Starting ===')
}

/** Written when the commands are over, before artifacts are uploaded (as generic-worker does). */
export function writeTaskFinished(log: TaskLog, startedAt: Date, finishedAt: Date): void {
  log.info('=== Task Finished ===')
  log.info(`Task Duration: ${formatGoDurationMs(finishedAt.getTime() - startedAt.getTime())}`)
}

export interface CommandResult {
  exitCode: number
  userMs: number
  kernelMs: number
  wallMs: number
  aborted: boolean
  systemError?: string
  /** The resource monitor's summary, when it ran. */
  memory?: MemorySummary
}

/** The block generic-worker prints after each command; labels right-aligned to 32 columns. */
export function writeCommandResult(log: TaskLog, r: CommandResult): void {
  if (r.aborted) {
    log.info(`Command ABORTED after ${formatGoDurationMs(r.wallMs)}: process aborted`)
    return
  }
  if (r.systemError !== undefined) {
    log.error(`System error executing command: ${r.systemError}`)
  }
  const row = (label: string, value: string) => `${label.padStart(32)}: ${value}`
  log.info(
    [
      row('Exit Code', String(r.exitCode)),
      row('User Time', formatGoDurationMs(r.userMs)),
      row('Kernel Time', formatGoDurationMs(r.kernelMs)),
      row('Wall Time', formatGoDurationMs(r.wallMs)),
      ...(r.memory
        ? [
            row('Average Available System Memory', formatBytes(r.memory.averageAvailableBytes)),
            row('Average System Memory Used', formatBytes(r.memory.averageUsedBytes)),
            row('Peak System Memory Used', formatBytes(r.memory.peakUsedBytes)),
            row('Total System Memory', formatBytes(r.memory.totalBytes)),
          ]
        : []),
      row('Result', r.exitCode === 0 ? 'SUCCEEDED' : 'FAILED'),
    ].join('\n'),
  )
}

export function writeFooter(ctx: TaskContext, summary: RunSummary): void {
  const { log } = ctx
  const err = summary.error
  if (err instanceof PayloadSchemaInvalid && err.problems.length > 0) {
    log.error('TASK FAIL since the task payload is invalid. See errors:')
    for (const p of err.problems) log.error(`- ${p}`)
    log.info('Task payload for this worker type must conform to the following jsonschema:')
    log.info(JSON.stringify(payloadSchema, null, 2))
  } else if (err instanceof MalformedPayload) {
    for (const p of err.problems) log.error(p)
  }
  if (err !== undefined) {
    log.error(err instanceof WorkerError || err instanceof Error ? err.message : String(err))
  } else if (summary.exitCode !== undefined && summary.exitCode !== 0) {
    log.error(`exit status ${summary.exitCode}`)
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n')
}
