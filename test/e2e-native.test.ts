// A task in, a resolution + log + artifacts out, through the fake Queue.
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from './helpers/fake-queue/index.js'
import { runWorker } from './helpers/worker.js'

describe('native executor end to end (fake Queue)', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('completes a task whose commands exit 0, with the log uploaded and linked', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['echo', 'hello world']], maxRunTime: 30 } })
    const { exitCode } = await runWorker(fake, { numberOfTasksToRun: 1 })
    assert.equal(exitCode, 0)
    assert.deepEqual(fake.status(taskId).runs.map((r) => [r.state, r.reasonResolved]), [['completed', 'completed']])
    const artifacts = fake.artifacts(taskId)
    const backing = artifacts.get('public/logs/live_backing.log')!
    assert.equal(backing.storageType, 's3')
    assert.equal(backing.contentType, 'text/plain; charset=utf-8')
    assert.equal(backing.contentEncoding, 'gzip')
    assert.match(backing.content!.toString(), /^hello world$/m)
    const live = artifacts.get('public/logs/live.log')!
    assert.equal(live.storageType, 'link')
    assert.equal(live.artifact, 'public/logs/live_backing.log')
  })
})
