// Keeping the fake Queue honest: the same small scenarios run once against the fake Queue
// (test/helpers/fake-queue) and once against the real deployment, each worker behind a
// recording forwarder; the API calls the worker made, with the status each answered, and the
// resolution must be the same. A fake that answers differently from the real services fails here.
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import { FakeQueue, WORKER } from '../helpers/fake-queue/index.js'
import { deploymentEnv } from './deployment-env.js'
import { createTask, startWorker, tail, waitForStatus, runResolved, WORKER_GROUP } from './harness.js'
import { RecordingForwarder, type RecordedCall } from './recording-forwarder.js'

interface Scenario {
  name: string
  payload: unknown
  config?: Record<string, unknown>
}

const scenarios: Scenario[] = [
  {
    name: 's3 artifacts, one missing (failed)',
    payload: { command: [['sh', '-c', 'echo hi > a.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'a.txt', name: 'public/a.txt' }, { type: 'file', path: 'nope', name: 'public/nope' }] },
  },
  {
    name: 'object artifacts (completed)',
    payload: { command: [['sh', '-c', 'echo hi > a.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'a.txt', name: 'public/a.txt' }] },
    config: { createObjectArtifacts: true },
  },
  { name: 'malformed payload', payload: { command: 42, maxRunTime: 60 } },
  {
    name: 'an artifact name the Queue refuses',
    payload: { command: [['sh', '-c', 'echo hi > a.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'a.txt', name: 'public/\u00fcber.txt' }] },
  },
]

/** What is compared: every call but the claim loop's polling, as "Service.method status", sorted (uploads run in parallel). */
const comparable = (calls: RecordedCall[]) =>
  calls
    .filter((c) => c.method !== 'Queue.claimWork')
    .map((c) => `${c.method} ${c.status}`)
    .sort()

describe('deployment: the fake Queue answers as the real one does', function () {
  let fake: FakeQueue
  before(async function () {
    if (!deploymentEnv().rootUrl.startsWith('http:')) this.skip() // the forwarder keeps Host: plain-HTTP deployments only
    fake = await new FakeQueue({ claimWaitMs: 500 }).start()
  })
  after(async () => fake?.stop())

  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const pool = deploymentEnv().workerPoolId
      const [provisionerId, workerType] = pool.split('/') as [string, string]

      // the real deployment
      const realForwarder = await new RecordingForwarder(deploymentEnv().rootUrl).start()
      let real: { calls: string[]; resolution: string[] }
      try {
        const taskId = await createTask({ payload: scenario.payload })
        const worker = await startWorker({ ...scenario.config, rootURL: realForwarder.rootUrl })
        await worker.exited
        const run = (await waitForStatus(taskId, runResolved(0), 30_000).catch(async (err: unknown) => {
          throw new Error(`${(err as Error).message}\n${tail(await worker.output())}`)
        })).runs[0]!
        real = { calls: comparable(realForwarder.calls), resolution: [run.state, run.reasonResolved ?? ''] }
      } finally {
        await realForwarder.stop()
      }

      // the fake, with the same worker settings
      const fakeForwarder = await new RecordingForwarder(fake.rootUrl).start()
      let faked: { calls: string[]; resolution: string[] }
      try {
        const workerId = `fidelity-${process.pid}`
        fake.addWorker(pool, WORKER_GROUP, workerId)
        const taskId = slugid()
        await fake.createTask(taskId, { payload: scenario.payload, taskQueueId: pool })
        const worker = await startWorker({ ...scenario.config, rootURL: fakeForwarder.rootUrl, clientId: WORKER.clientId, accessToken: WORKER.accessToken, provisionerId, workerType, workerId })
        await worker.exited
        const run = await fake.waitForResolution(taskId, 0, 30_000)
        faked = { calls: comparable(fakeForwarder.calls), resolution: [run.state, run.reasonResolved ?? ''] }
      } finally {
        await fakeForwarder.stop()
      }

      assert.deepEqual(faked.resolution, real.resolution, 'the same resolution')
      assert.deepEqual(faked.calls, real.calls, 'the same calls, answered the same way')
    })
  }
})
