// `megalodon replay`: take a task a legacy worker ran in production, run it here with the
// matching executor, and compare what came out: resolution and reason, exit code, artifact
// names, and each artifact's size and sha256. Only public read APIs of the deployment are used
// (credentials only when given); nothing is ever claimed or reported to the real Queue — the run
// publishes into a local directory.

import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import taskcluster, { downloadArtifact } from 'taskcluster-client'
import type { FeatureTable } from '../contract/feature.js'
import type { TaskExecutor } from '../contract/executor.js'
import { chainOfTrustFeature } from '../../features/chain-of-trust.js'
import { taskclusterProxyFeature } from '../../features/taskcluster-proxy.js'
import { buildConfig, type RawConfig } from '../config/config.js'
import { generateKeyPair, signingKeyFromBase64 } from '../lib/ed25519.js'
import { TaskEnvironmentUnavailable } from '../contract/errors.js'
import { DirectoryPublisher } from '../run/local.js'
import { artifactDownloadRetry } from '../taskcluster/retry.js'
import { sha256File } from '../lib/sha256.js'
import type { Logger } from '../lib/logger.js'
import type { Resolution } from '../contract/outcome.js'
import { runTask } from '../run/task-run.js'
import type { Credentials, TaskClaim, TaskDefinition } from '../contract/taskcluster.js'

export interface ReplayOptions {
  taskId: string
  /** The production run to compare with (default: the latest). */
  runId?: number
  rootUrl: string
  /** Used for the deployment's read APIs when given (private artifacts, locked-down deployments). */
  credentials?: Credentials
  /** Let the local run act for the task with these credentials (taskcluster-proxy, private images). */
  withCredentials?: boolean
  /** Where the local run's artifacts go (default: a new temporary directory). */
  artifactsDir?: string
  executors: readonly TaskExecutor[]
  logger: Logger
  /** Extra worker config for the local run (tasksDir, dockerRegistries…). */
  config?: RawConfig
  signal?: AbortSignal
}

export type ArtifactStatus = 'same' | 'differs' | 'missing' | 'extra' | 'not-compared'

export interface ArtifactFacts {
  storageType: string
  size?: number
  sha256?: string
  /** error artifacts: their reason */
  reason?: string
}

export interface ArtifactVerdict {
  name: string
  status: ArtifactStatus
  production?: ArtifactFacts
  local?: ArtifactFacts
  note?: string
}

export interface SideOutcome {
  state: string
  reason?: string
  exitCode?: number
  footer: string[]
}

export type Verdict = 'matched' | 'differed' | 'could-not-run'

export interface ReplayReport {
  taskId: string
  runId: number
  name: string
  family?: string
  verdict: Verdict
  /** Why the task could not be replayed (verdict could-not-run). */
  why?: string
  production?: SideOutcome
  local?: SideOutcome
  artifacts: ArtifactVerdict[]
  differences: string[]
  artifactsDir?: string
}

/** Artifacts whose bytes are different on every run by nature: only their presence is compared. */
const runSpecific = [/^public\/logs\//, /^public\/chain-of-trust\.json(\.sig)?$/, /^private\/(docker|generic)-worker\/shell\.html$/]

interface QueueClient {
  task(taskId: string): Promise<TaskDefinition>
  status(taskId: string): Promise<{ status: { runs: Array<{ runId: number; state: string; reasonResolved?: string }> } }>
  listArtifacts(taskId: string, runId: number, query?: Record<string, string>): Promise<{ artifacts: Array<{ name: string; storageType: string }>; continuationToken?: string }>
}

export async function replay(options: ReplayOptions): Promise<ReplayReport> {
  const { taskId } = options
  const queue = new taskcluster.Queue({ rootUrl: options.rootUrl, credentials: options.credentials, retries: 3 }) as unknown as QueueClient & object
  const report: ReplayReport = { taskId, runId: options.runId ?? -1, name: '', verdict: 'could-not-run', artifacts: [], differences: [] }
  let task: TaskDefinition
  let runs: Array<{ runId: number; state: string; reasonResolved?: string }>
  try {
    task = await queue.task(taskId)
    runs = (await queue.status(taskId)).status.runs
  } catch (err) {
    report.why = `cannot read task ${taskId} from ${options.rootUrl}: ${(err as Error).message}`
    return report
  }
  report.name = task.metadata?.name ?? ''
  const run = options.runId === undefined ? runs[runs.length - 1] : runs[options.runId]
  if (!run) {
    report.why = options.runId === undefined ? 'the task has no runs' : `the task has no run ${options.runId}`
    return report
  }
  report.runId = run.runId
  if (run.state === 'pending' || run.state === 'running') {
    report.why = `run ${run.runId} is still ${run.state}`
    return report
  }
  const executor = options.executors.find((e) => e.profile.accepts(task.payload))
  report.family = executor?.profile.name
  const productionArtifacts = await listAll(queue, taskId, run.runId)
  const logName = (executor?.profile ?? options.executors[0]!.profile).replay.backingLogName(task.payload)
  const productionLog = productionArtifacts.some((a) => a.name === logName) ? await downloadText(queue, taskId, run.runId, logName).catch(() => '') : ''
  report.production = { state: run.state, reason: run.reasonResolved, exitCode: exitCodeFromLog(productionLog), footer: footerOf(productionLog) }

  if (!executor) {
    report.why = 'no executor of this worker accepts the payload'
    return report
  }
  const needs = needsCredentials(task)
  if (needs.length > 0 && !options.withCredentials) {
    report.why = `skipped: needs credentials (${needs.join(', ')}); give --with-credentials`
    return report
  }

  // The local run: the task's own ids, the deployment's root URL (images from artifacts come
  // from it), no Queue to report to.
  const artifactsDir = path.resolve(options.artifactsDir ?? (await mkdtemp(path.join(os.tmpdir(), `megalodon-replay-${taskId}-`))))
  await mkdir(artifactsDir, { recursive: true })
  report.artifactsDir = artifactsDir
  const config = buildConfig([
    {
      rootURL: options.rootUrl,
      provisionerId: task.provisionerId ?? task.taskQueueId?.split('/')[0],
      workerType: task.workerType ?? task.taskQueueId?.split('/').slice(1).join('/'),
      workerGroup: 'megalodon-replay',
      workerId: 'replay',
      tasksDir: await mkdtemp(path.join(os.tmpdir(), 'megalodon-replay-tasks-')),
      taskclusterProxyPort: 0,
    },
    options.config ?? {},
  ])
  const credentials: Credentials = options.withCredentials && options.credentials ? options.credentials : { clientId: '', accessToken: '' }
  const features: FeatureTable = {
    // a throwaway key: a replayed certificate is compared for presence, never trusted
    chainOfTrust: chainOfTrustFeature(signingKeyFromBase64(generateKeyPair().privateKeyBase64)),
  }
  if (options.withCredentials) features.taskclusterProxy = taskclusterProxyFeature({ port: 0 })
  const publisher = new DirectoryPublisher(artifactsDir)
  const claim: TaskClaim = { taskId, runId: run.runId, task, workerGroup: config.workerGroup, workerId: config.workerId, takenUntil: task.deadline, credentials }
  let resolution = { state: 'none' } as Resolution
  const result = await runTask({
    claim,
    config,
    executors: options.executors,
    features,
    logger: options.logger,
    shutdownSignal: options.signal,
    services: { resolve: async (r) => void (resolution = r), publisher, credentials: () => credentials },
  })
  if (result.error instanceof TaskEnvironmentUnavailable) {
    report.why = `what the task runs in cannot be had here: ${result.error.message}`
    return report
  }
  const localLog = await readFile(result.logPath, 'utf8').catch(() => '')
  report.local = {
    state: resolution.state,
    reason: resolution.state === 'exception' ? resolution.reason : resolution.state === 'none' ? undefined : resolution.state,
    exitCode: exitCodeFromLog(localLog),
    footer: footerOf(localLog),
  }

  report.artifacts = await compareArtifacts(queue, taskId, run.runId, productionArtifacts, publisher)
  const p = report.production
  const l = report.local
  if (p.state !== l.state || (p.reason ?? '') !== (l.reason ?? '')) report.differences.push(`resolution: production ${describe(p)}, megalodon ${describe(l)}`)
  if (p.exitCode !== l.exitCode) report.differences.push(`exit code: production ${p.exitCode ?? 'unknown'}, megalodon ${l.exitCode ?? 'unknown'}`)
  for (const a of report.artifacts) {
    if (a.status === 'missing') report.differences.push(`artifact ${a.name}: megalodon did not create it`)
    if (a.status === 'extra') report.differences.push(`artifact ${a.name}: only megalodon created it`)
    if (a.status === 'differs') report.differences.push(`artifact ${a.name}: ${a.note}`)
  }
  report.verdict = report.differences.length === 0 ? 'matched' : 'differed'
  return report
}

function describe(side: SideOutcome): string {
  return side.state === 'exception' ? `exception/${side.reason}` : side.state
}

/** What a replay cannot do without acting as the task. */
export function needsCredentials(task: TaskDefinition): string[] {
  const payload = task.payload as Record<string, unknown> | undefined
  const needs: string[] = []
  const features = (payload?.features ?? {}) as Record<string, unknown>
  if (features.taskclusterProxy === true) needs.push('features.taskclusterProxy')
  const image = payload?.image as { type?: string; path?: string } | undefined
  if (image && typeof image === 'object' && image.path && !image.path.startsWith('public/')) needs.push(`private image artifact ${image.path}`)
  for (const m of (payload?.mounts ?? []) as Array<{ content?: { artifact?: string } }>) {
    const name = m.content?.artifact
    if (name && !name.startsWith('public/')) needs.push(`private artifact mount ${name}`)
  }
  return needs
}

/** The task's exit code as either legacy worker's log states it (the last one stated). */
export function exitCodeFromLog(log: string): number | undefined {
  const patterns = [/task run with exit code: (-?\d+) completed in/g, /^\[taskcluster [^\]]*\]\s+Exit Code: (-?\d+)\r?$/gm]
  let found: { at: number; code: number } | undefined
  for (const re of patterns) {
    for (const m of log.matchAll(re)) if (!found || m.index > found.at) found = { at: m.index, code: Number(m[1]) }
  }
  return found?.code
}

/**
 * The log's footer without timestamps (they always differ): the worker lines from the last
 * `=== Task Finished ===` on, less the artifact upload lines (their order varies), else the
 * last three worker lines.
 */
export function footerOf(log: string): string[] {
  const worker = log
    .split(/\r?\n/)
    .filter((l) => l.startsWith('[taskcluster'))
    .map((l) => l.replace(/^\[taskcluster [^\]]*\]/, '[taskcluster]'))
  const finished = worker.findLastIndex((l) => l.includes('=== Task Finished ==='))
  if (finished === -1) return worker.slice(-3)
  return worker.slice(finished).filter((l) => !/Uploading (error )?artifact/.test(l)).slice(0, 6)
}

async function listAll(queue: QueueClient, taskId: string, runId: number): Promise<Array<{ name: string; storageType: string }>> {
  const out: Array<{ name: string; storageType: string }> = []
  let token: string | undefined
  do {
    const page = await queue.listArtifacts(taskId, runId, token ? { continuationToken: token } : {})
    out.push(...page.artifacts)
    token = page.continuationToken
  } while (token)
  return out
}

/**
 * Stream a production artifact's bytes to `onChunk`. downloadArtifact calls the stream factory
 * again for each retry, so every attempt starts over (`onStart`): a retried download is never
 * counted twice.
 */
async function readArtifact(queue: QueueClient, taskId: string, runId: number, name: string, onStart: () => void, onChunk: (chunk: Buffer) => void): Promise<void> {
  await downloadArtifact({
    taskId,
    runId,
    name,
    queue: queue as never,
    ...artifactDownloadRetry,
    streamFactory: async () => {
      onStart()
      return new Writable({
        write(chunk: Buffer, _enc, done) {
          onChunk(chunk)
          done()
        },
      })
    },
  })
}

/** Size and sha256 of a production artifact's bytes, streamed (never held in memory). */
async function productionFacts(queue: QueueClient, taskId: string, runId: number, name: string): Promise<{ size: number; sha256: string }> {
  let hash = createHash('sha256')
  let size = 0
  await readArtifact(queue, taskId, runId, name, () => ((hash = createHash('sha256')), (size = 0)), (chunk) => {
    hash.update(chunk)
    size += chunk.length
  })
  return { size, sha256: hash.digest('hex') }
}

async function downloadText(queue: QueueClient, taskId: string, runId: number, name: string): Promise<string> {
  let chunks: Buffer[] = []
  await readArtifact(queue, taskId, runId, name, () => (chunks = []), (chunk) => chunks.push(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

async function compareArtifacts(
  queue: QueueClient,
  taskId: string,
  runId: number,
  production: Array<{ name: string; storageType: string }>,
  publisher: DirectoryPublisher,
): Promise<ArtifactVerdict[]> {
  const local = new Map(publisher.index.map((e) => [String(e.name), e]))
  const names = [...new Set([...production.map((a) => a.name), ...local.keys()])].sort()
  const verdicts: ArtifactVerdict[] = []
  for (const name of names) {
    const p = production.find((a) => a.name === name)
    const l = local.get(name)
    if (!l) {
      verdicts.push({ name, status: 'missing', production: { storageType: p!.storageType } })
      continue
    }
    const localSide: ArtifactFacts = { storageType: String(l.storageType), ...(l.reason ? { reason: String(l.reason) } : {}) }
    if (!p) {
      verdicts.push({ name, status: 'extra', local: localSide })
      continue
    }
    const prodSide: ArtifactFacts = { storageType: p.storageType }
    const verdict: ArtifactVerdict = { name, status: 'same', production: prodSide, local: localSide }
    verdicts.push(verdict)
    const bytes = (t: string) => t === 's3' || t === 'object'
    if (bytes(p.storageType) !== bytes(localSide.storageType) || (p.storageType === 'error') !== (localSide.storageType === 'error')) {
      Object.assign(verdict, { status: 'differs', note: `storage type ${p.storageType} in production, ${localSide.storageType} here` })
      continue
    }
    if (runSpecific.some((re) => re.test(name)) || !bytes(p.storageType)) {
      verdict.status = 'not-compared'
      verdict.note = bytes(p.storageType) ? 'differs on every run by nature (logs, signatures)' : `${p.storageType} artifact`
      continue
    }
    try {
      Object.assign(prodSide, await productionFacts(queue, taskId, runId, name))
    } catch (err) {
      Object.assign(verdict, { status: 'not-compared', note: `cannot download the production artifact: ${(err as Error).message}` })
      continue
    }
    Object.assign(localSide, await sha256File(path.join(publisher.dir, String(l.path))))
    if (prodSide.sha256 !== localSide.sha256) {
      Object.assign(verdict, { status: 'differs', note: `sha256 ${prodSide.sha256!.slice(0, 12)}… (${prodSide.size} bytes) in production, ${localSide.sha256!.slice(0, 12)}… (${localSide.size} bytes) here` })
    }
  }
  return verdicts
}

/** The human-readable comparison `megalodon replay` prints. */
export function formatReplay(r: ReplayReport): string {
  const lines: string[] = [`Task ${r.taskId} run ${r.runId}${r.name ? ` (${r.name})` : ''}${r.family ? `, ${r.family} payload` : ''}`]
  const side = (s?: SideOutcome) => (s ? `${describe(s)}, exit code ${s.exitCode ?? 'unknown'}` : '—')
  lines.push(`  production: ${side(r.production)}`)
  lines.push(`  megalodon:  ${r.local ? side(r.local) : r.why ?? '—'}`)
  if (r.artifacts.length > 0) {
    lines.push('  artifacts:')
    const width = Math.max(...r.artifacts.map((a) => a.name.length))
    for (const a of r.artifacts) {
      const facts = a.status === 'same' && a.local?.sha256 ? `${a.local.size} bytes, sha256 ${a.local.sha256.slice(0, 12)}…` : (a.note ?? '')
      lines.push(`    ${a.name.padEnd(width)}  ${a.status.padEnd(12)}  ${facts}`.trimEnd())
    }
  }
  if (r.production?.footer.length || r.local?.footer.length) {
    lines.push('  log footer, production:')
    for (const l of r.production?.footer ?? []) lines.push(`    ${l}`)
    lines.push('  log footer, megalodon:')
    for (const l of r.local?.footer ?? []) lines.push(`    ${l}`)
  }
  if (r.artifactsDir) lines.push(`  local artifacts and logs: ${r.artifactsDir}`)
  lines.push(r.verdict === 'could-not-run' ? `Verdict: could not run — ${r.why}` : r.verdict === 'matched' ? 'Verdict: matched' : `Verdict: differed\n${r.differences.map((d) => `  - ${d}`).join('\n')}`)
  return lines.join('\n') + '\n'
}
