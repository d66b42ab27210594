// `make bench`'s figures against a real Taskcluster deployment (the one the deployment suite
// uses, named by the same environment: README "Testing against a real deployment"), beside the
// fake Queue's: trivial tasks per minute at a capacity, and the Queue requests per trivial task
// (counted by a recording forwarder in front of the deployment, as the suite's lifecycle tests
// count them). Without a deployment in the environment the figures are left out, with the reason.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { rm } from 'node:fs/promises'
import { FakeQueue } from '../test/helpers/fake-queue/index.js'
import { spawnWorker } from '../test/helpers/worker.js'
import { deploymentEnv } from '../test/deployment/deployment-env.js'
import { createTask, startWorker, status, type RunStatus } from '../test/deployment/harness.js'
import { RecordingForwarder } from '../test/deployment/recording-forwarder.js'
import { slugid } from 'taskcluster-client'
import apis from 'taskcluster-client/src/apis.js'

const TRIVIAL = { command: [['true']], maxRunTime: 30 }

export interface QueueFigures {
  capacity: number
  tasks: number
  tasksPerMinute: number
  queueRequestsPerTask: number
  /** The same, method by method (Queue.createArtifact: n). */
  queueRequestsByMethod: Record<string, number>
}

function byMethod(methods: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const m of methods) counts[m] = (counts[m] ?? 0) + 1
  return counts
}

/** Tasks per minute from the first run's start to the last one's resolution. */
function perMinute(runs: Array<{ started?: string; resolved?: string }>): number {
  const span = Math.max(...runs.map((r) => Date.parse(r.resolved!))) - Math.min(...runs.map((r) => Date.parse(r.started!)))
  return Math.round((runs.length / span) * 60_000)
}

/** The Queue calls a worker made, less the long polls an idle worker makes whatever it runs. */
const countsAsTaskRequest = (method: string) => method.startsWith('Queue.') && method !== 'Queue.claimWork'
/** The fake names a request by its API method alone: these are the Queue's. */
const queueMethods = new Set((apis as unknown as { Queue: { reference: { entries: Array<{ name: string }> } } }).Queue.reference.entries.map((e) => e.name))

async function onDeployment(capacity: number, tasks: number): Promise<QueueFigures> {
  const env = deploymentEnv()
  const taskQueueId = `megalodon-test/bench-${randomBytes(4).toString('hex')}`
  const ids: string[] = []
  for (let i = 0; i < tasks; i++) ids.push(await createTask({ payload: TRIVIAL, taskQueueId }))
  const forwarder = await new RecordingForwarder(env.rootUrl).start()
  const [provisionerId, workerType] = taskQueueId.split('/') as [string, string]
  const worker = await startWorker({ rootURL: forwarder.rootUrl, provisionerId, workerType, capacity, numberOfTasksToRun: tasks, idleTimeoutSecs: 30 })
  const exit = await worker.exited
  await forwarder.stop()
  await rm(worker.dir, { recursive: true, force: true })
  const runs = await Promise.all(ids.map(async (id) => (await status(id)).runs[0]))
  const unresolved = runs.filter((r) => r?.state !== 'completed')
  if (exit.code !== 0 || unresolved.length > 0) throw new Error(`the worker exited ${exit.code}; ${unresolved.length} tasks did not complete`)
  const requests = forwarder.calls.filter((c) => countsAsTaskRequest(c.method)).map((c) => c.method)
  return { capacity, tasks, tasksPerMinute: perMinute(runs as RunStatus[]), queueRequestsPerTask: +(requests.length / tasks).toFixed(1), queueRequestsByMethod: byMethod(requests) }
}

/**
 * The same against the fake Queue, the worker as its own process as on the deployment (also
 * `make bench`'s throughput figures: in the bench's process the worker shared a heap that the
 * earlier figures had grown, which halved them).
 */
export async function fakeQueueFigures(capacity: number, tasks: number): Promise<QueueFigures> {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const ids: string[] = []
  for (let i = 0; i < tasks; i++) {
    const id = slugid()
    ids.push(id)
    await fake.createTask(id, { payload: TRIVIAL })
  }
  // the worker's requests only (the tasks above were created through the same fake)
  const first = fake.requests.length
  const worker = await spawnWorker(fake, { capacity, numberOfTasksToRun: tasks })
  const code = await worker.exited
  if (code !== 0) throw new Error(`the worker exited ${code}: ${worker.stderr().slice(-2000)}`)
  const runs = ids.map((id) => fake.state.get(id).runs[0]!)
  const requests = fake.requests.slice(first).filter((r) => queueMethods.has(r.method) && countsAsTaskRequest(`Queue.${r.method}`)).map((r) => `Queue.${r.method}`)
  await fake.stop()
  return { capacity, tasks, tasksPerMinute: perMinute(runs), queueRequestsPerTask: +(requests.length / tasks).toFixed(1), queueRequestsByMethod: byMethod(requests) }
}

/**
 * The deployment's names come from the environment, or from the file BENCH_DEPLOYMENT_ENV names
 * (`make bench` names the shared deployment's env.sh, as .ci/run sources it for the suite).
 */
function loadDeploymentEnvironment(): void {
  const file = process.env.BENCH_DEPLOYMENT_ENV
  if (!file || !existsSync(file)) return
  for (const [k, v] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) process.env[k] ??= v
}

export async function deploymentFigures(capacities: number[], tasks: number) {
  loadDeploymentEnvironment()
  try {
    deploymentEnv()
  } catch (err) {
    return { skipped: `${(err as Error).message}; \`make deployment-up\` starts the shared one` }
  }
  const rows: Array<{ deployment: QueueFigures; fake: QueueFigures }> = []
  for (const capacity of capacities) rows.push({ deployment: await onDeployment(capacity, tasks), fake: await fakeQueueFigures(capacity, tasks) })
  return { rows }
}

export function formatDeployment(f: Awaited<ReturnType<typeof deploymentFigures>>): string[] {
  if ('skipped' in f) return [`real deployment        skipped: ${f.skipped}`]
  return [
    'real deployment (its own worker process, trivial tasks) beside the fake Queue:',
    ...f.rows.map(
      (r) =>
        `  capacity ${r.deployment.capacity}: ${r.deployment.tasksPerMinute}/min, ${r.deployment.queueRequestsPerTask} Queue requests per task (claimWork aside); fake Queue ${r.fake.tasksPerMinute}/min, ${r.fake.queueRequestsPerTask} (${r.deployment.tasks} tasks each)`,
    ),
  ]
}
