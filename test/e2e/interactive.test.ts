// Interactive shell: a real websocket client opens the task's shell through the secret URL
// published as a private artifact, resizes it, types a command and reads its output — in a
// native task (node-pty in the task directory) and in a docker task (`docker exec` with a TTY).
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import { BUSYBOX_IMAGE, needsDocker } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { openShell, socketUrlOf, type ShellClient } from '../helpers/shell-client.js'
import { backingLog, submitAndRun, until } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'

const POOL_SCOPE = 'generic-worker:interactive:test-provisioner/test-worker-type'

describe('interactive shell', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('opens a terminal in a native task’s directory: resize, type, read; it ends with the task', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, {
      payload: { command: [['sh', '-c', 'while [ ! -f done ]; do sleep 0.1; done; echo the task saw done']], maxRunTime: 60, features: { interactive: true } },
      scopes: [POOL_SCOPE],
    })
    const worker = runWorker(fake, { numberOfTasksToRun: 1, enableInteractive: true })
    await until(() => socketUrlOf(fake, taskId, 'private/generic-worker/shell.html') !== undefined)
    const artifact = fake.artifacts(taskId).get('private/generic-worker/shell.html')!
    assert.equal(artifact.storageType, 'reference')
    assert.equal(artifact.contentType, 'text/html')
    assert.match(artifact.url!, new RegExp(`^${fake.rootUrl}/shell/\\?v=1&socketUrl=`))
    const url = socketUrlOf(fake, taskId, 'private/generic-worker/shell.html')!

    // a wrong secret gets nothing
    await assert.rejects(openShell(url.replace(/\/shell\/[^/]+$/, '/shell/not-the-secret')), /Unexpected server response: 404/)

    const shell = await openShell(url)
    shell.resize(30, 100)
    shell.type('stty size; echo "hello-$((6*7)) in $PWD as task $TASK_ID"; touch done\r')
    await until(() => /hello-42 in /.test(shell.output))
    assert.match(shell.output, /^30 100\r?$/m, 'the terminal has the size the client asked for')
    assert.match(shell.output, new RegExp(`hello-42 in \\S*task_[^ ]* as task ${taskId}`), 'in the task directory, with the task environment')
    assert.equal((await worker).exitCode, 0)
    await shell.closed
    assert.ok(shell.shutdown, 'the client was told the task ended')
    const run = fake.state.get(taskId).runs[0]!
    assert.equal(run.state, 'completed', backingLog(fake, taskId))
    const log = backingLog(fake, taskId)
    assert.match(log, /the task saw done/)
    assert.ok(!log.includes(new URL(url).pathname), 'the secret URL is not in the public log')
  })

  it('is refused without generic-worker’s scope, or when the worker does not offer it', async () => {
    const noScope = await submitAndRun(fake, { command: [['true']], maxRunTime: 60, features: { interactive: true } }, { config: { enableInteractive: true } })
    assert.deepEqual([noScope.state, noScope.reason], ['exception', 'malformed-payload'])
    assert.match(noScope.log, /Feature "Interactive" requires scopes:\n/)
    assert.ok(noScope.log.includes(POOL_SCOPE), 'the missing scope is named')

    const off = await submitAndRun(fake, { command: [['true']], maxRunTime: 60, features: { interactive: true } }, { task: { scopes: [POOL_SCOPE] } })
    assert.deepEqual([off.state, off.reason], ['exception', 'malformed-payload'])
    assert.match(off.log, /this task is attempting to use feature "Interactive", but it's not enabled on this worker pool/)

    const plain = await submitAndRun(fake, { command: [['true']], maxRunTime: 60 }, { config: { enableInteractive: true } })
    assert.equal(plain.state, 'completed')
    assert.equal(fake.artifacts(plain.taskId).has('private/generic-worker/shell.html'), false, 'off unless asked for')
  })

  describe('docker tasks (real engine)', function () {
    before(needsDocker)

    it('opens a `docker exec` terminal in the running container', async () => {
      const taskId = slugid()
      await fake.createTask(taskId, {
        payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'while [ ! -f /tmp/done ]; do sleep 0.1; done; echo the container saw done'], maxRunTime: 60, features: { interactive: true } },
      })
      const worker = runWorker(fake, { numberOfTasksToRun: 1, enableInteractive: true })
      await until(() => socketUrlOf(fake, taskId, 'private/docker-worker/shell.html') !== undefined)
      const url = socketUrlOf(fake, taskId, 'private/docker-worker/shell.html')!
      // the container may still be starting: retry until the exec opens
      let shell: ShellClient | undefined
      await until(async () => {
        shell = await openShell(url).catch(() => undefined)
        return shell !== undefined
      })
      shell!.resize(40, 120)
      shell!.type('stty size; echo "hello-$((6*7)) from $(hostname) as $TASK_ID"; touch /tmp/done\n')
      await until(() => /hello-42 from /.test(shell!.output))
      assert.match(shell!.output, /^40 120\r?$/m)
      assert.match(shell!.output, new RegExp(`hello-42 from \\S+ as ${taskId}`))
      assert.equal((await worker).exitCode, 0)
      await shell!.closed
      const log = backingLog(fake, taskId)
      assert.equal(fake.state.get(taskId).runs[0]!.state, 'completed', log)
      assert.match(log, /the container saw done/)
    })

    it('fails the task as docker-worker did when the worker does not offer it', async () => {
      const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, features: { interactive: true } })
      assert.equal(o.state, 'failed', o.log)
      assert.match(o.log, /\[taskcluster:error\] interactive is not enabled on this worker/)
    })
  })
})
