// The deployment suite's plumbing: tasks created with the real Queue, `megalodon run` started
// as its own process against the deployment, and what happened read back only through the
// public APIs (status, listArtifacts, artifact downloads).

import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import taskcluster, { downloadArtifact } from 'taskcluster-client'
import type { RawConfig } from '../../src/config/config.js'
import { cliEntry } from '../../src/lib/paths.js'
import { deploymentEnv, type Credentials } from './deployment-env.js'

type Json = Record<string, unknown>

export interface RunStatus {
  runId: number
  state: string
  reasonCreated: string
  reasonResolved?: string
  workerGroup?: string
  workerId?: string
  /** When the run was claimed and resolved (the Queue's task status, ISO 8601). */
  started?: string
  resolved?: string
  takenUntil?: string
}
export interface TaskStatus {
  taskId: string
  state: string
  retriesLeft: number
  runs: RunStatus[]
}
export interface ListedArtifact {
  name: string
  storageType: string
  contentType: string
  expires: string
}

/** The Queue methods the suite calls (taskcluster-client has them all; its types are ours). */
export interface DeploymentQueue {
  createTask(taskId: string, task: Json): Promise<{ status: TaskStatus }>
  status(taskId: string): Promise<{ status: TaskStatus }>
  cancelTask(taskId: string): Promise<{ status: TaskStatus }>
  listArtifacts(taskId: string, runId: number | string, query?: Json): Promise<{ artifacts: ListedArtifact[]; continuationToken?: string }>
  artifact(taskId: string, runId: number | string, name: string): Promise<Json>
}

export function queueAs(credentials?: Credentials): DeploymentQueue {
  return new taskcluster.Queue({ rootUrl: deploymentEnv().rootUrl, ...(credentials ? { credentials } : {}), retries: 2 }) as unknown as DeploymentQueue
}

export const creatorQueue = (): DeploymentQueue => queueAs(deploymentEnv().creator)

export const WORKER_GROUP = 'megalodon-deploy'

export interface NewTask {
  payload: unknown
  retries?: number
  scopes?: string[]
  routes?: string[]
  dependencies?: string[]
  /** Seconds from now (default 900: whatever a failed scenario leaves behind dies soon). */
  deadlineSecs?: number
  taskQueueId?: string
  extra?: Json
}

/** createTask in the suite's worker pool; returns the taskId. */
export async function createTask(spec: NewTask): Promise<string> {
  const env = deploymentEnv()
  const taskId = taskcluster.slugid()
  const now = Date.now()
  await creatorQueue().createTask(taskId, {
    taskQueueId: spec.taskQueueId ?? env.workerPoolId,
    schedulerId: 'megalodon-tests',
    taskGroupId: taskId,
    dependencies: spec.dependencies ?? [],
    requires: 'all-completed',
    routes: spec.routes ?? [],
    priority: 'lowest',
    retries: spec.retries ?? 0,
    created: new Date(now).toISOString(),
    deadline: new Date(now + (spec.deadlineSecs ?? 900) * 1000).toISOString(),
    expires: new Date(now + 24 * 3600_000).toISOString(),
    scopes: spec.scopes ?? [],
    payload: spec.payload,
    metadata: { name: 'megalodon deployment test', description: 'a task of the deployment suite', owner: 'megalodon-tests@example.com', source: 'https://example.com/megalodon/test/deployment' },
    tags: {},
    extra: spec.extra ?? {},
  })
  return taskId
}

export interface StartedWorker {
  child: ChildProcess
  /** Resolves with the process's exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** stdout+stderr so far (the worker's own log). */
  output(): Promise<string>
  config: RawConfig
  dir: string
}

let portSlot = 0
/** The worker's listeners stay in 18300–18399 (the shared deployment keeps clear of them). */
function nextPorts(): { livelogPortBase: number; taskclusterProxyPort: number; interactivePort: number } {
  const slot = portSlot++ % 10
  return { livelogPortBase: 18300 + slot * 4, taskclusterProxyPort: 18342 + slot, interactivePort: 18352 + slot }
}

let workerCount = 0

/**
 * The suite's environment without the deployment's credentials: the worker gets its own from
 * its config, and the insecure engine hands the worker's environment on to tasks.
 */
export function workerEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TASKCLUSTER_|TC_|DEPLOYMENT_SUITE_|MEGALODON_)/.test(k)))
}

/** `megalodon run --config FILE` as its own process, claiming from the suite's pool. */
export async function startWorker(overrides: RawConfig = {}, options: { env?: NodeJS.ProcessEnv } = {}): Promise<StartedWorker> {
  const env = deploymentEnv()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'megalodon-deploy-'))
  const [provisionerId, workerType] = env.workerPoolId.split('/') as [string, string]
  const config: RawConfig = {
    rootURL: env.rootUrl,
    clientId: env.worker.clientId,
    accessToken: env.worker.accessToken,
    provisionerId,
    workerType,
    workerGroup: WORKER_GROUP,
    workerId: `w${process.pid}-${++workerCount}`,
    tasksDir: path.join(dir, 'tasks'),
    cachesDir: path.join(dir, 'caches'),
    downloadsDir: path.join(dir, 'downloads'),
    engine: 'insecure',
    // required by every generic-worker build (gwconfig/config.go:130); the insecure engine
    // leaves chain of trust unoffered when it does not load
    ed25519SigningKeyLocation: path.join(dir, 'no-chain-of-trust-key'),
    numberOfTasksToRun: 1,
    // a worker that finds nothing ends instead of holding the suite
    idleTimeoutSecs: 60,
    workerTypeMetadata: { suite: 'deployment' },
    ...nextPorts(),
    ...overrides,
  }
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, 'worker.json')
  await writeFile(file, JSON.stringify(config), { mode: 0o600 })
  const logFile = path.join(dir, 'worker.log')
  const log = createWriteStream(logFile)
  const child = spawn(process.execPath, [cliEntry, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...workerEnvironment(), ...options.env }, cwd: path.dirname(file) })
  child.stdout!.pipe(log, { end: false })
  child.stderr!.pipe(log, { end: false })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      // let the pipes drain before the log is read
      setImmediate(() => resolve({ code, signal }))
    }),
  )
  return { child, exited, output: () => readFile(logFile, 'utf8'), config, dir }
}

export async function status(taskId: string): Promise<TaskStatus> {
  return (await creatorQueue().status(taskId)).status
}

/** Poll the Queue until `cond` holds for the task's status (test plumbing, not a timing assertion). */
export async function waitForStatus(taskId: string, cond: (s: TaskStatus) => boolean, timeoutMs = 180_000): Promise<TaskStatus> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = await status(taskId)
    if (cond(s)) return s
    if (Date.now() > end) throw new Error(`task ${taskId}: condition not reached in ${timeoutMs} ms; status ${JSON.stringify(s)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

const resolvedStates = ['completed', 'failed', 'exception']
export const runResolved = (runId: number) => (s: TaskStatus) => resolvedStates.includes(s.runs[runId]?.state ?? '')

export interface Outcome {
  taskId: string
  status: TaskStatus
  run: RunStatus
  worker: { code: number | null; signal: NodeJS.Signals | null; output: string }
}

/** Create one task, run one worker for exactly that task, and read the resolution. */
export async function runTask(spec: NewTask, config: RawConfig = {}): Promise<Outcome> {
  const taskId = await createTask(spec)
  const worker = await startWorker(config)
  const exit = await worker.exited
  const output = await worker.output()
  const s = await waitForStatus(taskId, runResolved(0), 30_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\nworker exit ${JSON.stringify(exit)}; its log:\n${output.slice(-8000)}`)
  })
  return { taskId, status: s, run: s.runs[0]!, worker: { ...exit, output } }
}

export async function listArtifacts(taskId: string, runId = 0): Promise<Map<string, ListedArtifact>> {
  const out = new Map<string, ListedArtifact>()
  let continuationToken: string | undefined
  do {
    const page = await creatorQueue().listArtifacts(taskId, runId, continuationToken ? { continuationToken } : {})
    for (const a of page.artifacts) out.set(a.name, a)
    continuationToken = page.continuationToken
  } while (continuationToken)
  return out
}

/** Bodies the tests download are theirs and small; refuse anything past this. */
const MAX_DOWNLOAD = 64 * 1024 * 1024

/**
 * An artifact's content as a client downloads it (taskcluster-client's downloadArtifact: s3
 * redirects followed and gzip decoded, object artifacts through the Object service with their
 * hashes checked). Without credentials, as anonymous (public/ artifacts).
 */
export async function download(taskId: string, runId: number, name: string, credentials: Credentials | null = deploymentEnv().creator): Promise<{ body: Buffer; contentType: string }> {
  const chunks: Buffer[] = []
  let size = 0
  const queue = new taskcluster.Queue({ rootUrl: deploymentEnv().rootUrl, ...(credentials ? { credentials } : {}), retries: 2 })
  const contentType = await downloadArtifact({
    taskId,
    runId,
    name,
    queue,
    retries: 2,
    streamFactory: async () => {
      chunks.length = 0
      size = 0
      return new Writable({
        write(chunk: Buffer, _enc, cb) {
          size += chunk.length
          if (size > MAX_DOWNLOAD) return cb(new Error(`artifact ${name} is larger than ${MAX_DOWNLOAD} bytes`))
          chunks.push(chunk)
          cb()
        },
      })
    },
  })
  return { body: Buffer.concat(chunks), contentType }
}

/** The task log as a reader gets it (public/logs/live_backing.log, decoded). */
export async function taskLog(taskId: string, runId = 0): Promise<string> {
  return (await download(taskId, runId, 'public/logs/live_backing.log')).body.toString('utf8')
}

/** For assertion messages: the log of a failed scenario, shortened. */
export function tail(text: string, chars = 6000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text
}

/** Another megalodon command (replay, shadow) as its own process, without the suite's credentials. */
export async function megalodon(args: string[], timeoutMs = 240_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cliEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: workerEnvironment(), timeout: timeoutMs })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)))
  return { code, stdout, stderr }
}
