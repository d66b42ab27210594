// docker-worker's task log: `[taskcluster 2026-11-23 10:00:00.000Z] …` info lines (ISO time
// with a space for the T), `[taskcluster:error] …` always on a fresh line, its header and its
// `Successful task run with exit code: N completed in S seconds` footer.

import os from 'node:os'
import { megalodonVersion } from '../../src/lib/version.js'
import { FeatureNotOffered, MalformedPayload, PayloadSchemaInvalid, PostRunFailure } from '../../src/contract/errors.js'
import { FeatureRefused, FeaturesNotLinked } from './payload.js'
import type { LogFormat } from '../../src/lib/task-log.js'
import type { RunSummary, TaskContext } from '../../src/contract/task-context.js'

export const dockerWorkerLogFormat: LogFormat = {
  info: (line, now) => `[taskcluster ${now.toISOString().replace('T', ' ')}] ${line}`,
  warn: (line, now) => `[taskcluster ${now.toISOString().replace('T', ' ')}] ${line}`,
  // docker-worker starts every error with a newline, so Treeherder always sees it at a line start.
  error: (line) => `\n[taskcluster:error] ${line}`,
  // docker-worker wrote its lines as they were (src/log.js:22-33): an info line after output
  // without a final newline continues that line, an error brings exactly one newline of its
  // own, and only a message's first line carries the prefix
  asWritten: true,
}

export function writeDockerHeader(ctx: TaskContext): void {
  const { config } = ctx
  for (const line of [
    `Task ID: ${ctx.taskId}`,
    `Worker ID: ${config.workerId}`,
    `Worker Group: ${config.workerGroup}`,
    // docker-worker's workerNodeType, 'standalone' unless the provider named the instance type
    // (config.yml:66)
    `Worker Node Type: ${config.instanceType || 'standalone'}`,
    `Worker Pool: ${config.provisionerId}/${config.workerType}`,
    // docker-worker printed its package.json version (src/task.js:472): megalodon prints its own,
    // a bare version number as generic-worker's header metadata also carries it
    `Worker Version: ${megalodonVersion()}`,
    // docker-worker interpolated runtime.publicIp as it was: `undefined` when nobody set one
    // (src/task.js:473; config.yml has no default)
    `Public IP: ${config.publicIP || 'undefined'}`,
    `Hostname: ${os.hostname()}`,
    // the caches are part of the header, before its blank line, named by the mount point in the
    // container, in payload order (src/task.js:476-483)
    ...cacheLines(ctx.task.payload),
  ])
    ctx.log.info(line)
  ctx.log.write('\r\n')
}

function cacheLines(payload: unknown): string[] {
  const cache = (payload as { cache?: unknown } | null)?.cache
  if (typeof cache !== 'object' || cache === null) return []
  return Object.entries(cache).map(([name, mountPoint]) => `using cache "${name}" -> ${String(mountPoint)}`)
}

export function writeDockerFooter(ctx: TaskContext, summary: RunSummary): void {
  const { log } = ctx
  const err = summary.error
  if (err instanceof MalformedPayload) {
    if (err instanceof PayloadSchemaInvalid) {
      // one error message, the JSON after a newline and a space (src/task.js:507-512)
      log.error(`\`task.payload\` format is invalid json schema errors:\n ${JSON.stringify(err.problems, null, 2)}`)
    } else for (const p of err.problems) log.error(p)
  }
  if (err instanceof FeatureNotOffered) for (const p of err.problems) log.error(p)
  // written as util.format wrote the Error (src/task.js:338-340)
  if (err instanceof FeatureRefused) log.error(`Error: ${err.message}`)
  // abortRun's message, written whole (src/task.js:786-791)
  if (err instanceof FeaturesNotLinked) log.error(err.message)
  // after a failed upload docker-worker forced the exit code to -1 only if the commands had
  // succeeded (src/task.js:945-950)
  const keepsExitCode = err === undefined || (err instanceof PostRunFailure && summary.exitCode !== 0)
  const exitCode = keepsExitCode ? (summary.exitCode ?? -1) : -1
  // docker-worker timed the whole run, header and image included, from taskStart
  // (src/task.js:754,541,956), and printed the seconds with util.format's %d: JavaScript's
  // shortest form of the number (3.1, 12, 10.827)
  const since = summary.runStartedAt ?? summary.startedAt ?? summary.finishedAt
  const seconds = String((summary.finishedAt.getTime() - since.getTime()) / 1000)
  log.info(`${exitCode === 0 ? 'Successful' : 'Unsuccessful'} task run with exit code: ${exitCode} completed in ${seconds} seconds`)
}
