// The fake Queue itself must behave like the real one where the worker depends on it:
// taskcluster-client's own download helper reads back what the worker uploaded (s3 and object
// artifacts, links followed), and the state rules and auth refuse what the real Queue refuses.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import taskcluster, { downloadArtifact, slugid } from 'taskcluster-client'
import { ADMIN, FakeQueue, WORKER } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'


async function download(fake: FakeQueue, taskId: string, name: string, runId?: number): Promise<{ body: string; contentType: string }> {
  const chunks: Buffer[] = []
  const queue = new taskcluster.Queue({ rootUrl: fake.rootUrl, credentials: ADMIN, retries: 0 })
  const contentType = await downloadArtifact({
    taskId,
    runId,
    name,
    queue,
    retries: 0,
    streamFactory: async () => new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) }),
  })
  return { body: Buffer.concat(chunks).toString('utf8'), contentType }
}

describe('fake Queue fidelity', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  for (const createObjectArtifacts of [false, true]) {
    it(`serves ${createObjectArtifacts ? 'object' : 's3'} artifacts to taskcluster-client's downloadArtifact, following the live.log link`, async () => {
      const o = await submitAndRun(fake, { command: [['sh', '-c', 'echo artifact-body > a.txt; echo in-the-log']], maxRunTime: 30, artifacts: [{ type: 'file', path: 'a.txt', name: 'public/a.txt' }] }, { config: { createObjectArtifacts } })
      assert.equal(o.state, 'completed')
      const art = await download(fake, o.taskId, 'public/a.txt', 0)
      assert.equal(art.body, 'artifact-body\n')
      assert.match((await download(fake, o.taskId, 'public/logs/live.log')).body, /^in-the-log$/m)
    })
  }

  it('refuses requests that do not match the Queue’s schemas, bad signatures and missing scopes', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, { payload: {} })
    fake.addWorker('test-provisioner/test-worker-type', 'g', 'w')
    const asWorker = new taskcluster.Queue({ rootUrl: fake.rootUrl, credentials: WORKER, retries: 0 })
    await assert.rejects(asWorker.claimWork('test-provisioner/test-worker-type', { workerGroup: 'g', workerId: 'w', tasks: 100 }), (e: { statusCode: number }) => e.statusCode === 400)
    await assert.rejects(asWorker.claimWork('other/pool', { workerGroup: 'g', workerId: 'w', tasks: 1 }), (e: { statusCode: number }) => e.statusCode === 403)
    await assert.rejects(asWorker.reportCompleted(taskId, 0), (e: { statusCode: number }) => e.statusCode === 403)
    const forged = new taskcluster.Queue({ rootUrl: fake.rootUrl, credentials: { clientId: WORKER.clientId, accessToken: 'wrong' }, retries: 0 })
    await assert.rejects(forged.claimWork('test-provisioner/test-worker-type', { workerGroup: 'g', workerId: 'w', tasks: 1 }), (e: { statusCode: number }) => e.statusCode === 401)
  })

  it('applies the run state rules: 409 for a report on a resolved run, idempotent repeats, expired claims retried', async () => {
    fake.claimTimeoutSecs = 1
    const taskId = slugid()
    await fake.createTask(taskId, { payload: {} })
    fake.addWorker('test-provisioner/test-worker-type', 'g', 'w')
    const asWorker = new taskcluster.Queue({ rootUrl: fake.rootUrl, credentials: WORKER, retries: 0 })
    const { tasks } = await asWorker.claimWork('test-provisioner/test-worker-type', { workerGroup: 'g', workerId: 'w', tasks: 1 })
    const claim = tasks[0] as { credentials: { clientId: string; accessToken: string; certificate: string } }
    const asTask = new taskcluster.Queue({ rootUrl: fake.rootUrl, credentials: claim.credentials, retries: 0 })
    await asTask.reportFailed(taskId, 0)
    await asTask.reportFailed(taskId, 0) // same resolution again: fine
    await assert.rejects(asTask.reportCompleted(taskId, 0), (e: { statusCode: number }) => e.statusCode === 409)
    await assert.rejects(asTask.reclaimTask(taskId, 0), (e: { statusCode: number }) => e.statusCode === 409)

    const second = slugid()
    await fake.createTask(second, { payload: {} })
    await asWorker.claimWork('test-provisioner/test-worker-type', { workerGroup: 'g', workerId: 'w', tasks: 1 })
    await new Promise((r) => setTimeout(r, 1200))
    const runs = fake.status(second).runs
    assert.deepEqual([runs[0]!.state, runs[0]!.reasonResolved, runs[1]!.reasonCreated], ['exception', 'claim-expired', 'retry'])
  })
})
