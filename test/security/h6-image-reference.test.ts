// H6 (security-audit.md): an image name that is no docker reference (`x/../../host:port/pwn`,
// `""`, `../../etc/passwd`) went into the Engine API path; the engine answered a redirect that
// docker-modem followed off the unix socket, to the host:port the payload chose (blind SSRF),
// and when that connection failed, the unhandled error took the worker down with every running
// task. The reference is checked against docker's grammar before any engine call: the task fails
// (as docker-worker failed a task whose image it could not get: src/lib/task.js, image pull
// errors), no request leaves the machine, and the other task completes.
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog, madeInTaskDir, until } from '../helpers/tasks.js'
import { imageReferenceProblem } from '../../executors/docker/image-reference.js'
import { freePort, releaseTasks, runTask, startTask, startWorker, WAIT_FOR_RELEASE, type WorkerProcess } from './worker-process.js'

describe('H6: image names that are not docker references', function () {
  let fake: FakeQueue
  let worker: WorkerProcess | undefined
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    await dockerForTests()
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => {
    await worker?.stop()
    await fake?.stop()
  })

  it('follows distribution/reference’s grammar', () => {
    for (const ok of ['busybox', 'busybox:1.36', 'library/busybox', '127.0.0.1:5000/test/busybox:1', 'localhost/a_b__c-d.e', 'ghcr.io/o/r@sha256:' + 'a'.repeat(64), '[::1]:5000/x:y']) {
      assert.equal(imageReferenceProblem(ok), undefined, ok)
    }
    for (const bad of ['', 'x/../../127.0.0.1:17060/pwn', '../../etc/passwd', 'UPPER/Case', 'bad image', 'a:', 'a@sha256:12', '/abs', 'a//b', `a/${'b'.repeat(300)}`]) {
      assert.ok(imageReferenceProblem(bad), JSON.stringify(bad))
    }
  })

  it('fails the task with no engine call off the socket, and neither the worker nor another task notices', async () => {
    let contacted = 0
    const listener = http.createServer((_req, res) => {
      contacted++
      res.end()
    })
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r))
    const open = (listener.address() as AddressInfo).port
    const closed = await freePort()
    try {
      worker = await startWorker(fake)
      const innocent = await startTask(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'touch /dev/null; echo innocent'], maxRunTime: 60 })
      const native = await startTask(fake, { command: [WAIT_FOR_RELEASE], maxRunTime: 60 })
      await until(() => madeInTaskDir(worker!.tasksDir))
      for (const image of [`x/../../127.0.0.1:${open}/pwn`, `x/../../127.0.0.1:${closed}/x`, '', { type: 'docker-image', name: '../../etc/passwd' }]) {
        const bad = await runTask(fake, { image, command: ['true'], maxRunTime: 30 })
        assert.deepEqual([bad.state, bad.reason], ['failed', 'failed'], `${JSON.stringify(image)}: ${worker.stderr()}`)
        assert.match(backingLog(fake, bad.taskId), /is not a valid docker image reference/)
        assert.ok(worker.alive(), worker.stderr())
      }
      assert.equal(contacted, 0, 'no request reached the host:port the payload named')
      await releaseTasks(worker.tasksDir)
      for (const id of [innocent, native]) {
        const run = await fake.waitForResolution(id)
        assert.deepEqual([run.state, run.reasonResolved], ['completed', 'completed'], worker.stderr())
      }
      assert.ok(worker.alive(), worker.stderr())
    } finally {
      listener.close()
    }
  })
})
