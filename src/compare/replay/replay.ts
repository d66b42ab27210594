// `megalodon replay`: take a task a legacy worker ran in production, run it here with the
// matching executor, and compare what came out: resolution and reason, exit code, artifact
// names, and each artifact's size and sha256. Only public read APIs of the deployment are used
// (credentials only when given); nothing is ever claimed or reported to the real Queue — the run
// publishes into a local directory.

import { mkdir, mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import taskcluster from 'taskcluster-client'
import type { FeatureTable } from '../../contract/feature.js'
import { chainOfTrustFeature } from '../../../features/chain-of-trust.js'
import { taskclusterProxyFeature } from '../../../features/taskcluster-proxy.js'
import { buildConfig } from '../../config/config.js'
import { generateKeyPair, signingKeyFromBase64 } from '../../lib/ed25519.js'
import { TaskEnvironmentUnavailable } from '../../contract/errors.js'
import { DirectoryPublisher } from '../../run/local.js'
import type { Resolution } from '../../contract/outcome.js'
import { runTask } from '../../run/task-run.js'
import type { Credentials, TaskClaim, TaskDefinition } from '../../contract/taskcluster.js'
import { compareArtifacts } from './compare.js'
import { downloadText, exitCodeFromLog, footerOf, listAll, type QueueClient } from './production.js'
import { describe, type ReplayOptions, type ReplayReport } from './report.js'

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
