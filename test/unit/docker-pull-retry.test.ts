// docker-worker's image pull retries: dockerConfig.maxAttempts pulls per image step, any error
// retried (src/docker/docker_image.js:102-145), the whole step tried 4 times (src/task.js:826-838),
// and the last error re-wrapped, so the log reads `Error: Error: …` (src/task.js:842-848).
import assert from 'node:assert/strict'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { artifactImageName } from '../../executors/docker/image-tarball.js'
import { FakeDockerEngine } from '../helpers/fake-docker-engine.js'
import { runDirect } from '../helpers/run-direct.js'

describe('docker image pull retries', () => {
  it('pulls maxAttempts times in each of 4 image steps, then fails with the re-wrapped error', async () => {
    const engine = new FakeDockerEngine()
    const executors = [createDockerExecutor({ engine }) as TaskExecutor]
    const r = await runDirect(executors, { image: 'nowhere/none:1', command: ['true'], maxRunTime: 60 }, { config: { dockerConfig: { maxAttempts: 3, delayFactor: 1 } } })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.equal(engine.calls.filter((c) => c === 'images.pull').length, 4 * 3)
    assert.ok(r.log.includes('\n[taskcluster:error] Pulling docker image has failed.\n\n[taskcluster:error] Error: Error: pull access denied for nowhere/none:1, repository does not exist\n'), r.log)
  })

  it('rides out failures within maxAttempts (a registry briefly down)', async () => {
    const engine = new FakeDockerEngine()
    let failures = 4
    const pull = engine.images.pull
    engine.images.pull = async (ref, auth, progress) => {
      if (failures-- > 0) throw new Error('connect ECONNREFUSED registry')
      engine.pullable.add(ref)
      return pull(ref, auth, progress)
    }
    const r = await runDirect([createDockerExecutor({ engine }) as TaskExecutor], { image: 'reg/img:1', command: ['true'], maxRunTime: 60 }, { config: { dockerConfig: { maxAttempts: 5, delayFactor: 1 } } })
    assert.deepEqual(r.resolution, { state: 'completed' }, r.log)
  })

  it('finds an image loaded from an artifact by its md5 name, so across restarts, without downloading (src/docker/artifact_image.js:203-232)', async () => {
    const engine = new FakeDockerEngine()
    const taskId = 'Qa1b2c3d4e5f6g7h8i9j0k'
    engine.images_.add(artifactImageName(taskId, 'public/image.tar'))
    // a fresh executor: what a restarted worker has
    const r = await runDirect([createDockerExecutor({ engine }) as TaskExecutor], { image: { type: 'task-image', taskId, path: 'public/image.tar' }, command: ['true'], maxRunTime: 60 })
    assert.deepEqual(r.resolution, { state: 'completed' }, r.log)
    assert.match(r.log, new RegExp(`Image 'public/image.tar' from task '${taskId}' loaded\\.  Using image ID sha256:[0-9a-f]{64}\\.`))
    assert.equal(engine.calls.includes('images.load'), false)
  })
})
