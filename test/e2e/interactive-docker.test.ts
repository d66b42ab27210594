// Interactive shell for docker payloads, opened as the current UI opens one: docker-worker's
// artifact (src/features/interactive.js:134-150: private/docker-worker/shell.html, text/html,
// no scope) holding generic-worker's v=2 link, because the UI no longer opens docker-worker's
// v=1 (ui/src/components/Shell/index.jsx:48-55). The client is test/helpers/shell-client.ts,
// which sends what index.jsx sends.
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import { BUSYBOX_IMAGE, needsDocker } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { openShellPage, shellPageOf, type ShellClient } from '../helpers/shell-client.js'
import { backingLog, submitAndRun, until } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import { createNativeExecutor } from '../../executors/native/executor.js'
import type { TaskExecutor } from '../../src/contract/executor.js'

const ARTIFACT = 'private/docker-worker/shell.html'

/** docker-worker's keep-alive shortened, as its own tests configured it (interactive_test.js:32-40). */
function executors(minSecs: number, afterSessionSecs: number): TaskExecutor[] {
  return [createNativeExecutor() as TaskExecutor, createDockerExecutor({ interactiveKeepAlive: { minSecs, afterSessionSecs } }) as TaskExecutor]
}

/** Open the page until a shell answers: the container may still be starting, and a shell that cannot start yet says so and closes (interactivejob.go:142-148). */
async function shellWhenUp(link: string, screen = { width: 120, height: 40 }): Promise<ShellClient> {
  let shell: ShellClient | undefined
  await until(async () => {
    const s = await openShellPage(link, screen).catch(() => undefined)
    if (!s) return false
    s.type('echo "up-$((6*7))"\n')
    let closed = false
    void s.closed.then(() => (closed = true))
    await until(() => closed || s.output.includes('up-42'))
    if (!closed) shell = s
    return shell !== undefined
  })
  return shell!
}

describe('interactive shell (docker payloads, real engine)', function () {
  let fake: FakeQueue
  before(needsDocker)
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('publishes docker-worker’s artifact with a v=2 link; a UI session runs in the container', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, {
      payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'while [ ! -f /tmp/done ]; do sleep 0.1; done; echo the container saw done'], maxRunTime: 60, features: { interactive: true } },
    })
    const worker = runWorker(fake, { numberOfTasksToRun: 1, enableInteractive: true }, executors(0, 0))
    await until(() => shellPageOf(fake, taskId, ARTIFACT) !== undefined)
    const artifact = fake.artifacts(taskId).get(ARTIFACT)!
    assert.equal(artifact.storageType, 'reference')
    assert.equal(artifact.contentType, 'text/html')
    const page = shellPageOf(fake, taskId, ARTIFACT)!
    assert.deepEqual([...page.keys()], ['runId', 'socketUrl', 'taskId', 'v'])
    assert.deepEqual([page.get('v'), page.get('taskId'), page.get('runId')], ['2', taskId, '0'])

    const shell = await shellWhenUp(artifact.url!)
    shell.type('stty size; echo "hello-$((6*7)) from $(hostname) as $TASK_ID"; touch /tmp/done\n')
    await until(() => /hello-42 from /.test(shell.output))
    assert.match(shell.output, /^40 120\r?$/m, 'the terminal has the size the page sent')
    assert.match(shell.output, new RegExp(`hello-42 from \\S+ as ${taskId}`))
    // an open session keeps the container (docker-worker's hold): the page is closed
    shell.close()
    assert.equal((await worker).exitCode, 0)
    const log = backingLog(fake, taskId)
    assert.equal(fake.state.get(taskId).runs[0]!.state, 'completed', log)
    assert.match(log, /the container saw done/)
  })

  it('keeps the container for a session past the command, and ends when the session does, with the command’s exit code', async () => {
    // interactive_wrapper_run.sh: the command's status, 5 s, then the hold; interactive_test.js
    // "stays alive": a session keeps the task running after its command ended
    const taskId = slugid()
    await fake.createTask(taskId, {
      payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'while [ ! -f /tmp/go ]; do sleep 0.1; done; echo the command ends; touch /tmp/ended; exit 3'], maxRunTime: 120, features: { interactive: true } },
    })
    const worker = runWorker(fake, { numberOfTasksToRun: 1, enableInteractive: true }, executors(0, 0))
    await until(() => shellPageOf(fake, taskId, ARTIFACT) !== undefined)
    const shell = await shellWhenUp(fake.artifacts(taskId).get(ARTIFACT)!.url!)
    // past the command's end and the wrapper's 5 s: only the session's hold keeps the container
    shell.type('touch /tmp/go; while [ ! -f /tmp/ended ]; do sleep 0.1; done; sleep 7; echo "after-$((6*7))"\n')
    await until(() => shell.output.includes('after-42'), 40_000)
    assert.equal(fake.state.get(taskId).runs[0]!.state, 'running', 'the task runs on while the session is open')
    shell.close()
    assert.equal((await worker).exitCode, 0)
    const log = backingLog(fake, taskId)
    const run = fake.state.get(taskId).runs[0]!
    assert.deepEqual([run.state, run.reasonResolved], ['failed', 'failed'], log)
    assert.match(log, /the command ends/)
    assert.match(log, /Unsuccessful task run with exit code: 3 /, log)
  })

  it('fails the task as docker-worker did when the worker does not offer it', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, features: { interactive: true } })
    assert.equal(o.state, 'failed', o.log)
    // refused while the features are built, before anything runs (src/task.js:69-73)
    assert.match(o.log, /\[taskcluster:error\] Error: interactive is not enabled on this worker\n/)
  })
})
