// docker-worker's task log: `[taskcluster 2026-11-23 10:00:00.000Z] …` info lines (ISO time
// with a space for the T), `[taskcluster:error] …` always on a fresh line, its header and its
// `Successful task run with exit code: N completed in S seconds` footer.

import os from 'node:os'
import { FeatureNotOffered, MalformedPayload, PayloadSchemaInvalid } from '../../src/contract/errors.js'
import type { LogFormat } from '../../src/lib/task-log.js'
import type { RunSummary, TaskContext } from '../../src/contract/task-context.js'

export const dockerWorkerLogFormat: LogFormat = {
  info: (line, now) => `[taskcluster ${now.toISOString().replace('T', ' ')}] ${line}`,
  warn: (line, now) => `[taskcluster ${now.toISOString().replace('T', ' ')}] ${line}`,
  // docker-worker starts every error with a newline, so Treeherder always sees it at a line start.
  error: (line) => `\n[taskcluster:error] ${line}`,
}

/** Version shown in the header (docker-worker printed its own). */
export const WORKER_VERSION = 'megalodon'

export function writeDockerHeader(ctx: TaskContext): void {
  const { config } = ctx
  for (const line of [
    `Task ID: ${ctx.taskId}`,
    `Worker ID: ${config.workerId}`,
    `Worker Group: ${config.workerGroup}`,
    `Worker Node Type: ${config.instanceType || 'unknown'}`,
    `Worker Pool: ${config.provisionerId}/${config.workerType}`,
    `Worker Version: ${WORKER_VERSION}`,
    `Public IP: ${config.publicIP || 'unknown'}`,
    `Hostname: ${os.hostname()}`,
  ])
    ctx.log.info(line)
  ctx.log.write('\r\n')
}

export function writeDockerFooter(ctx: TaskContext, summary: RunSummary): void {
  const { log } = ctx
  const err = summary.error
  if (err instanceof MalformedPayload) {
    if (err instanceof PayloadSchemaInvalid) {
      log.error('`task.payload` format is invalid json schema errors:')
      log.write(JSON.stringify(err.problems, null, 2) + '\n')
    } else for (const p of err.problems) log.error(p)
  }
  if (err instanceof FeatureNotOffered) for (const p of err.problems) log.error(p)
  const exitCode = err === undefined ? (summary.exitCode ?? -1) : -1
  const seconds = ((summary.finishedAt.getTime() - (summary.startedAt ?? summary.finishedAt).getTime()) / 1000).toFixed(3)
  log.info(`${exitCode === 0 ? 'Successful' : 'Unsuccessful'} task run with exit code: ${exitCode} completed in ${seconds} seconds`)
}
