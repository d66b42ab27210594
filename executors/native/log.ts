// generic-worker's task log: `[taskcluster <time>] …` info lines, `[taskcluster:warn <time>] …`,
// `[taskcluster:error] …` (no time), its header, per-command result block and footer.

import { formatGoDuration, formatGoDurationMs } from '../../src/lib/go-duration.js'
import { goMarshalIndent } from '../../src/lib/go-json.js'
import { megalodonVersion } from '../../src/lib/version.js'
import { goQuote } from '../../src/lib/go-quote.js'
import { formatBytes, type MemorySummary } from './resource-monitor.js'
import { MalformedPayload, PayloadSchemaInvalid, WorkerError, WorkerShutdown } from '../../src/contract/errors.js'
import type { ArtifactSpec } from '../../src/contract/artifacts.js'
import type { LogFormat, TaskLog } from '../../src/lib/task-log.js'
import type { RunSummary, TaskContext } from '../../src/contract/task-context.js'
import { currentPlatform } from './platform.js'
import { payloadDocumentFor } from './schema.js'

export const genericWorkerLogFormat: LogFormat = {
  info: (line, now) => `[taskcluster ${now.toISOString()}] ${line}`,
  warn: (line, now) => `[taskcluster:warn ${now.toISOString()}] ${line}`,
  error: (line) => `[taskcluster:error] ${line}`,
  // main.go:1056-1065 writes the prefixed line wherever the log is: after output with no
  // trailing newline, on the same line
  ownLine: false,
}

/** Go's names for this machine's architecture and OS (runtime.GOARCH, runtime.GOOS). */
const goArch: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' }
const goOs: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd' }

/**
 * The worker type metadata with generic-worker's own entry merged in (main.go:308-320, with
 * insecure.go:251-258 / multiuser.go:401-409's `config`). megalodon is not a Go build: its
 * entry has no go-version, release or revision, and `version` is megalodon's.
 */
export function headerMetadata(config: TaskContext['config']): Record<string, unknown> {
  const own: Record<string, unknown> = {
    config: config.engine === 'multiuser' ? { capacity: config.capacity, headlessTasks: config.headlessTasks } : { capacity: config.capacity },
    engine: config.engine,
    'go-arch': goArch[process.arch] ?? process.arch,
    'go-os': goOs[process.platform] ?? process.platform,
    version: megalodonVersion(),
  }
  const merged: Record<string, unknown> = { ...config.workerTypeMetadata, 'generic-worker': own }
  // a Go map: every level sorted (goMarshalIndent sorts below the top)
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]]))
}

export function writeHeader(ctx: TaskContext): void {
  const { config } = ctx
  ctx.log.info(`Worker Type (${config.provisionerId}/${config.workerType}) settings:`)
  // backing_log_feature.go:61-66: MarshalIndent(metadata, "  ", "  ") after two spaces
  ctx.log.info(indent(goMarshalIndent(headerMetadata(config)).toString('utf8'), '  '))
  ctx.log.info(`Task ID: ${ctx.taskId}`)
  // backing_log_feature.go:68: with the header, before validation, mounts and features
  ctx.log.info('=== Task Starting ===')
}

/**
 * Written when the commands are over, before artifacts are uploaded (task_timer_feature.go:56-58);
 * times from process.hrtime.bigint(), printed as Go's Duration.String() (ns precision).
 */
export function writeTaskFinished(log: TaskLog, startedNs: bigint, finishedNs: bigint): void {
  log.info('=== Task Finished ===')
  log.info(`Task Duration: ${formatGoDuration(finishedNs - startedNs)}`)
}

/** Why the last command failed, in Go's words ("exit status 3", "signal: killed", an exec error), per task log. */
const failureCauses = new WeakMap<TaskLog, string>()

export function recordFailureCause(log: TaskLog, r: CommandResult): void {
  if (r.aborted) return
  const cause = r.systemError ?? r.signal ?? (r.exitCode !== 0 ? `exit status ${r.exitCode}` : undefined)
  if (cause !== undefined) failureCauses.set(log, cause)
}

export interface CommandResult {
  exitCode: number
  userMs: number
  kernelMs: number
  wallMs: number
  aborted: boolean
  systemError?: string
  /** Go's ExitError text for a command killed by a signal ("signal: killed"). */
  signal?: string
  /** The resource monitor's summary, when it took a sample. */
  memory?: MemorySummary
}

const row = (label: string, value: string) => `${label.padStart(32)}: ${value}`

function memoryRows(m: MemorySummary | undefined): string[] {
  if (!m || m.totalBytes <= 0) return []
  return [
    row('Average Available System Memory', formatBytes(m.averageAvailableBytes)),
    row('Average System Memory Used', formatBytes(m.averageUsedBytes)),
    row('Peak System Memory Used', formatBytes(m.peakUsedBytes)),
    row('Total System Memory', formatBytes(m.totalBytes)),
  ]
}

/** What generic-worker prints after each command (process/process.go:130-162); labels right-aligned to 32 columns. */
export function writeCommandResult(log: TaskLog, r: CommandResult): void {
  recordFailureCause(log, r)
  if (r.aborted) {
    // "Command ABORTED after %v: %v\n%v": the memory lines, then the text's final newline (an empty line)
    log.info([`Command ABORTED after ${formatGoDurationMs(r.wallMs)}: process aborted`, ...memoryRows(r.memory), ''].join('\n'))
    return
  }
  // one info line and no result block (process.go:146-147)
  if (r.systemError !== undefined) {
    log.info(`System error executing command: ${r.systemError}`)
    return
  }
  log.info(
    [
      row('Exit Code', String(r.exitCode)),
      row('User Time', formatGoDurationMs(r.userMs)),
      row('Kernel Time', formatGoDurationMs(r.kernelMs)),
      row('Wall Time', formatGoDurationMs(r.wallMs)),
      ...memoryRows(r.memory),
      row('Result', r.exitCode === 0 ? 'SUCCEEDED' : 'FAILED'),
    ].join('\n'),
  )
}

/**
 * An artifact's task-log lines: only error artifacts have any (upload lines go to the worker
 * log: artifacts/s3.go:66, object.go:41, link.go:19, redirect.go:27), and an optional one's go
 * to the worker log too (artifacts/error.go:20-24, artifact_feature.go:126-133).
 */
export function writeArtifactLines(log: TaskLog, spec: ArtifactSpec): void {
  if (spec.kind !== 'error' || spec.optional === true) return
  const expires = new Date(spec.expires).toISOString()
  log.error(`Uploading error artifact ${spec.name} from file ${spec.path ?? spec.name} with message ${goQuote(spec.message)}, reason ${goQuote(spec.reason)} and expiry ${expires}`)
  log.error(`TASK FAILURE during artifact upload: ${spec.reason}: ${spec.message}`)
}

export function writeFooter(ctx: TaskContext, summary: RunSummary): void {
  const { log } = ctx
  const err = summary.error
  if (err instanceof PayloadSchemaInvalid && err.problems.length > 0) {
    // main.go:935-938 (every line an error line), then its footer (:968); the schema of this
    // worker's engine and platform, as JSONSchema() is generated per build (generated_*.go)
    log.error(`Task payload for this worker type must conform to the following jsonschema:\n${JSON.stringify(payloadDocumentFor(ctx.config.engine, currentPlatform().name), null, 2)}`)
    log.error('TASK FAIL since the task payload is invalid. See errors:')
    for (const p of err.problems) log.error(`- ${p}`)
    log.error(`validation of payload failed for task ${ctx.taskId}`)
    return
  }
  // generic-worker's footer is the refusal itself (megalodon finds every one, upstream the first)
  if (err instanceof MalformedPayload && err.problems.length > 0) {
    for (const p of err.problems) log.error(p)
    return
  }
  // backing_log_feature.go:74-76: the first error of the run
  if (err !== undefined) {
    // abort_feature.go:63
    if (err instanceof WorkerShutdown) log.error('graceful termination requested, without time to finish tasks')
    else log.error(err instanceof WorkerError || err instanceof Error ? err.message : String(err))
  } else if (summary.exitCode !== undefined && summary.exitCode !== 0) {
    const retry = (ctx.task.payload as { onExitStatus?: { retry?: number[] } } | undefined)?.onExitStatus?.retry ?? []
    // main.go:1092-1096
    if (retry.includes(summary.exitCode)) log.error(`task appears to have failed intermittently - exit code ${summary.exitCode} found in task payload.onExitStatus list`)
    else log.error(failureCauses.get(log) ?? `exit status ${summary.exitCode}`)
  } else if (summary.failedArtifacts?.[0]) {
    // artifact_feature.go:131: Failure("<reason>: <message>")
    log.error(`${summary.failedArtifacts[0].reason}: ${summary.failedArtifacts[0].message}`)
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n')
}
