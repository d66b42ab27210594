// H8 (security-audit.md): a request whose body is cut short (Content-Length 1000, 3 bytes,
// then the socket closes) sent to a task's taskcluster-proxy left a response promise nobody
// awaited; its rejection reached the worker's unhandledRejection handler and took the worker
// down with every running task. An aborted request ends that request only.
import assert from 'node:assert/strict'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { madeInTaskDir, until } from '../helpers/tasks.js'
import { releaseTasks, sendRaw, startTask, startWorker, WAIT_FOR_RELEASE, type WorkerProcess } from './worker-process.js'

describe('H8: an aborted request body to the taskcluster-proxy', function () {
  let fake: FakeQueue
  let worker: WorkerProcess | undefined
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => {
    await worker?.stop()
    await fake.stop()
  })

  it('ends that request only: the worker and the task go on, the proxy still serves', async () => {
    worker = await startWorker(fake)
    const taskId = await startTask(fake, { command: [WAIT_FOR_RELEASE], maxRunTime: 60, features: { taskclusterProxy: true } }, { scopes: ['queue:get-task:*'] })
    await until(() => madeInTaskDir(worker!.tasksDir))
    const port = worker.ports.proxy
    for (let i = 0; i < 5; i++) {
      await sendRaw(port, 'POST /api/queue/v1/task/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nabc', { endAfterWrite: true })
    }
    assert.ok(worker.alive(), worker.stderr())
    // the proxy still signs and forwards a whole request
    const res = await fetch(`http://127.0.0.1:${port}/api/queue/v1/task/${taskId}`)
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { payload: { maxRunTime: number } }).payload.maxRunTime, 60)
    await releaseTasks(worker.tasksDir)
    const run = await fake.waitForResolution(taskId)
    assert.deepEqual([run.state, run.reasonResolved], ['completed', 'completed'], worker.stderr())
    assert.ok(worker.alive(), worker.stderr())
  })
})
