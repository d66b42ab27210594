// H7 (security-audit.md): one malformed request line (`GET http://[ HTTP/1.1`, a target no
// URL parser accepts) sent to the live-log port or the interactive port took the worker down
// (exit 69, every running task exception/internal-error). No connection may crash the worker:
// the request is answered 400 and the running task resolves as it would have.
import assert from 'node:assert/strict'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { madeInTaskDir, until } from '../helpers/tasks.js'
import { releaseTasks, sendRaw, startTask, startWorker, WAIT_FOR_RELEASE, type WorkerProcess } from './worker-process.js'

const BAD_LINE = 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n'
const BAD_UPGRADE = 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'

describe('H7: a malformed request line to the live-log or interactive port', function () {
  let fake: FakeQueue
  let worker: WorkerProcess | undefined
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => {
    await worker?.stop()
    await fake.stop()
  })

  it('is answered 400 and neither the worker nor the running task notices', async () => {
    worker = await startWorker(fake)
    const taskId = await startTask(fake, { command: [WAIT_FOR_RELEASE], maxRunTime: 60 })
    await until(() => madeInTaskDir(worker!.tasksDir))
    assert.match(await sendRaw(worker.ports.liveLog, BAD_LINE), /^HTTP\/1\.1 400/)
    assert.match(await sendRaw(worker.ports.interactive, BAD_UPGRADE), /^HTTP\/1\.1 400/)
    assert.match(await sendRaw(worker.ports.interactive, BAD_LINE), /^HTTP\/1\.1 (400|404)/)
    assert.ok(worker.alive(), worker.stderr())
    await releaseTasks(worker.tasksDir)
    const run = await fake.waitForResolution(taskId)
    assert.deepEqual([run.state, run.reasonResolved], ['completed', 'completed'], worker.stderr())
    assert.ok(worker.alive(), worker.stderr())
  })
})
