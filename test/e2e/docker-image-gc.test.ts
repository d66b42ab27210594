// The images docker-worker removed by itself (src/gc.js:28-48,142-222; config.yml:86-92), on
// the real engine: a task's image is marked when the task has it; between tasks, with no task
// running, an expired marked image no container uses is removed; with the disk short, every
// marked image no container uses. Images the worker never used stay.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { slugid } from 'taskcluster-client'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import { BUSYBOX_IMAGE, needsDocker } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { runDirect } from '../helpers/run-direct.js'
import { runWorker } from '../helpers/worker.js'

/** An image of its own id (busybox plus a label), so removing it touches nothing else. */
function makeImage(name: string): string {
  const container = execFileSync('docker', ['create', BUSYBOX_IMAGE, 'true'], { encoding: 'utf8' }).trim()
  try {
    execFileSync('docker', ['commit', '--change', `LABEL megalodon-gc-test=${name}`, container, name], { stdio: 'ignore' })
  } finally {
    execFileSync('docker', ['rm', container], { stdio: 'ignore' })
  }
  return execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', name], { encoding: 'utf8' }).trim()
}

function imageExists(ref: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('docker image garbage collection (real engine)', function () {
  this.timeout(60_000)
  before(needsDocker)
  const made: string[] = []
  const containers: string[] = []
  afterEach(() => {
    for (const c of containers.splice(0)) execFileSync('docker', ['rm', '-f', c], { stdio: 'ignore' })
    for (const image of made.splice(0)) if (imageExists(image)) execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' })
  })

  function image(): string {
    const name = `megalodon-gc-test/${slugid().toLowerCase().replace(/[^a-z0-9]/g, '')}:latest`
    made.push(name)
    makeImage(name)
    return name
  }

  it('removes a task’s image once it has expired and no container uses it, before a later claim; never one it did not use', async () => {
    const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    try {
      const used = image()
      const inUse = image()
      const untouched = image()
      const ids = [slugid(), slugid()]
      await fake.createTask(ids[0]!, { payload: { image: used, command: ['true'], maxRunTime: 60 } })
      await fake.createTask(ids[1]!, { payload: { image: inUse, command: ['true'], maxRunTime: 60 } })
      // a container of the operator's uses this one (src/gc.js:146-150: not removed while a container has it)
      containers.push(execFileSync('docker', ['create', inUse, 'true'], { encoding: 'utf8' }).trim())
      const { exitCode } = await runWorker(fake, { idleTimeoutSecs: 2 }, [createDockerExecutor({ imageExpirationMs: 0 }) as TaskExecutor])
      assert.equal(exitCode, 68)
      for (const id of ids) assert.equal(fake.status(id).runs[0]!.state, 'completed')
      assert.equal(imageExists(used), false, 'removed while the worker waited for work')
      assert.equal(imageExists(inUse), true, 'a container uses it')
      assert.equal(imageExists(untouched), true, 'never used by a task')
    } finally {
      await fake.stop()
    }
  })

  it('keeps an image used within the expiry, but removes it when the disk runs short (src/gc.js:142-151,186-219)', async () => {
    const executor = createDockerExecutor()
    const used = image()
    const r = await runDirect([executor as TaskExecutor], { image: used, command: ['true'], maxRunTime: 60 })
    assert.deepEqual(r.resolution, { state: 'completed' }, r.log)
    const host = { config: r.config, log: () => undefined }
    await executor.idle!(host)
    assert.equal(imageExists(used), true, 'used less than two hours ago')
    let asked = 0
    await executor.collectGarbage!(host, async () => ++asked > 1)
    assert.equal(imageExists(used), false)
  })
})
