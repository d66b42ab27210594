// `megalodon shadow`: replay many production tasks (a worker pool's recent tasks, a task group,
// or a list of task ids) and write one report — Markdown and a self-contained HTML page —
// saying which matched, which differed and why, and which could not run. Read-only: it never
// claims a task.

import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import PQueue from 'p-queue'
import taskcluster from 'taskcluster-client'
import { parseJsonOrYaml } from '../lib/json-or-yaml.js'
import type { TaskExecutor } from '../contract/executor.js'
import { ConfigError } from '../contract/errors.js'
import type { Logger } from '../lib/logger.js'
import { replay } from './replay/replay.js'
import type { ReplayReport } from './replay/report.js'
import { renderHtmlReport } from './shadow-html.js'
import type { Credentials } from '../contract/taskcluster.js'

export interface ShadowConfig {
  rootUrl: string
  /** Follow this pool: its workers' recent tasks (`provisionerId/workerType`). */
  workerPoolId?: string
  taskGroupId?: string
  taskIds?: string[]
  /** Replays at once (default 2). */
  concurrency?: number
  /** At most this many tasks (default 50). */
  limit?: number
  /** Where report.md, report.html, report.json and each replay's artifacts go (default `shadow-report`). */
  output?: string
  withCredentials?: boolean
  /** Worker config for the local runs (tasksDir, dockerRegistries…). */
  worker?: Record<string, unknown>
}

export async function readShadowConfig(file: string): Promise<ShadowConfig> {
  const text = await readFile(file, 'utf8')
  const parsed = (await parseJsonOrYaml(file, text)) as ShadowConfig
  if (!parsed || typeof parsed.rootUrl !== 'string') throw new ConfigError(`${file}: "rootUrl" is required`)
  if (!parsed.workerPoolId && !parsed.taskGroupId && !(parsed.taskIds?.length)) {
    throw new ConfigError(`${file}: name the tasks to replay: "workerPoolId", "taskGroupId" or "taskIds"`)
  }
  return parsed
}

interface ReadQueue {
  listTaskGroup(id: string, q?: Record<string, string>): Promise<{ tasks: Array<{ status: { taskId: string; runs: Array<{ runId: number; state: string; reasonResolved?: string }> } }>; continuationToken?: string }>
  listWorkers(p: string, w: string, q?: Record<string, string>): Promise<{ workers: Array<{ workerGroup: string; workerId: string }>; continuationToken?: string }>
  getWorker(p: string, w: string, g: string, id: string): Promise<{ recentTasks: Array<{ taskId: string; runId: number }> }>
  status(taskId: string): Promise<{ status: { runs: Array<{ runId: number; state: string; reasonResolved?: string }> } }>
}

type RunStatus = { runId: number; state: string; reasonResolved?: string }

/** A run worth replaying: resolved, and not for a reason that says nothing about the task. */
function replayable(run: RunStatus | undefined): boolean {
  return run !== undefined && ['completed', 'failed', 'exception'].includes(run.state) && !notReplayable.has(run.reasonResolved ?? '')
}

/** Production outcomes that say nothing about the task itself: never replayed. */
const notReplayable = new Set(['canceled', 'deadline-exceeded', 'claim-expired', 'superseded'])

/** The (taskId, runId) pairs to replay, in order, without duplicates. */
export async function collectTasks(config: ShadowConfig, credentials?: Credentials): Promise<Array<{ taskId: string; runId?: number }>> {
  const queue = new taskcluster.Queue({ rootUrl: config.rootUrl, credentials, retries: 3 }) as unknown as ReadQueue
  const found: Array<{ taskId: string; runId?: number }> = []
  for (const taskId of config.taskIds ?? []) found.push({ taskId })
  if (config.taskGroupId) {
    let token: string | undefined
    do {
      const page = await queue.listTaskGroup(config.taskGroupId, token ? { continuationToken: token } : {})
      for (const t of page.tasks) {
        const last = t.status.runs[t.status.runs.length - 1]
        if (last && replayable(last)) found.push({ taskId: t.status.taskId, runId: last.runId })
      }
      token = page.continuationToken
    } while (token)
  }
  if (config.workerPoolId) {
    const [provisionerId, ...rest] = config.workerPoolId.split('/')
    const workerType = rest.join('/')
    let token: string | undefined
    do {
      const page = await queue.listWorkers(provisionerId!, workerType, token ? { continuationToken: token } : {})
      for (const w of page.workers) {
        const worker = await queue.getWorker(provisionerId!, workerType, w.workerGroup, w.workerId)
        for (const t of worker.recentTasks) {
          const runs = (await queue.status(t.taskId)).status.runs
          if (replayable(runs[t.runId])) found.push({ taskId: t.taskId, runId: t.runId })
        }
      }
      token = page.continuationToken
    } while (token)
  }
  const seen = new Set<string>()
  return found.filter((t) => {
    const key = `${t.taskId}/${t.runId ?? 'latest'}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  }).slice(0, config.limit ?? 50)
}

export interface ShadowTotals {
  tasks: number
  matched: number
  differed: number
  couldNotRun: number
  /** why tasks could not run, with counts */
  why: Record<string, number>
}

export function totalsOf(reports: ReplayReport[]): ShadowTotals {
  const why: Record<string, number> = {}
  for (const r of reports) if (r.verdict === 'could-not-run') why[r.why ?? 'unknown'] = (why[r.why ?? 'unknown'] ?? 0) + 1
  return {
    tasks: reports.length,
    matched: reports.filter((r) => r.verdict === 'matched').length,
    differed: reports.filter((r) => r.verdict === 'differed').length,
    couldNotRun: reports.filter((r) => r.verdict === 'could-not-run').length,
    why,
  }
}

export interface ShadowOptions {
  config: ShadowConfig
  credentials?: Credentials
  executors: readonly TaskExecutor[]
  logger: Logger
  /** Told about each replay as it finishes. */
  onReport?: (report: ReplayReport) => void
  signal?: AbortSignal
}

export async function shadow(options: ShadowOptions): Promise<{ reports: ReplayReport[]; totals: ShadowTotals; files: { markdown: string; html: string; json: string } }> {
  const { config } = options
  const out = path.resolve(config.output ?? 'shadow-report')
  await mkdir(out, { recursive: true })
  const tasks = await collectTasks(config, options.credentials)
  const queue = new PQueue({ concurrency: config.concurrency ?? 2 })
  const reports: ReplayReport[] = []
  await Promise.all(
    tasks.map((t) =>
      queue.add(async () => {
        const report = await replay({
          taskId: t.taskId,
          runId: t.runId,
          rootUrl: config.rootUrl,
          credentials: options.credentials,
          withCredentials: config.withCredentials,
          artifactsDir: path.join(out, 'runs', `${t.taskId}-${t.runId ?? 'latest'}`),
          executors: options.executors,
          logger: options.logger,
          config: config.worker,
          signal: options.signal,
        }).catch((err: unknown): ReplayReport => ({ taskId: t.taskId, runId: t.runId ?? -1, name: '', verdict: 'could-not-run', why: `replay failed: ${(err as Error).message}`, artifacts: [], differences: [] }))
        reports.push(report)
        options.onReport?.(report)
      }),
    ),
  )
  // the report lists tasks in the order they were found, whatever order the replays ended in
  const order = new Map(tasks.map((t, i) => [t.taskId, i]))
  reports.sort((a, b) => (order.get(a.taskId) ?? 0) - (order.get(b.taskId) ?? 0))
  const totals = totalsOf(reports)
  const files = { markdown: path.join(out, 'report.md'), html: path.join(out, 'report.html'), json: path.join(out, 'report.json') }
  const generated = new Date().toISOString()
  await writeFile(files.markdown, renderMarkdownReport(reports, totals, config, generated))
  await writeFile(files.html, renderHtmlReport(reports, totals, { source: describeSource(config), generated }))
  await writeFile(files.json, JSON.stringify({ generated, config: { ...config }, totals, reports }, null, 2) + '\n')
  return { reports, totals, files }
}

function describeSource(config: ShadowConfig): string {
  const parts = [config.workerPoolId && `worker pool ${config.workerPoolId}`, config.taskGroupId && `task group ${config.taskGroupId}`, config.taskIds?.length && `${config.taskIds.length} listed tasks`]
  return `${parts.filter(Boolean).join(', ')} on ${config.rootUrl}`
}

/** One table cell: pipes and newlines would break the Markdown table. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function renderMarkdownReport(reports: ReplayReport[], totals: ShadowTotals, config: ShadowConfig, generated: string): string {
  const lines = [
    '# megalodon shadow report',
    '',
    `${describeSource(config)}, ${generated}.`,
    '',
    `**${totals.tasks} tasks: ${totals.matched} matched, ${totals.differed} differed, ${totals.couldNotRun} could not run.**`,
    '',
  ]
  if (totals.couldNotRun > 0) {
    lines.push('Could not run:', '')
    for (const [why, n] of Object.entries(totals.why)) lines.push(`- ${n} × ${why}`)
    lines.push('')
  }
  lines.push('| task | run | name | payload | verdict | production | megalodon | artifacts | differences |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const r of reports) {
    const counts = artifactCounts(r)
    lines.push(
      `| ${r.taskId} | ${r.runId} | ${cell(r.name)} | ${r.family ?? '—'} | ${r.verdict} | ${outcomeCell(r.production)} | ${outcomeCell(r.local)} | ${counts} | ${cell(r.verdict === 'could-not-run' ? (r.why ?? '') : r.differences.join('; '))} |`,
    )
  }
  return lines.join('\n') + '\n'
}

/** One side's outcome in a report table: `failed (exit 2)`, `exception/malformed-payload (exit -1)`. */
export function outcomeCell(s?: { state: string; reason?: string; exitCode?: number }): string {
  return s ? `${s.state === 'exception' ? `exception/${s.reason}` : s.state} (exit ${s.exitCode ?? '?'})` : '—'
}

export function artifactCounts(r: ReplayReport): string {
  const n = (s: string) => r.artifacts.filter((a) => a.status === s).length
  return r.artifacts.length === 0 ? '—' : `${n('same')} same, ${n('differs')} differ, ${n('missing')} missing, ${n('extra')} extra`
}
