// Under worker-runner, worker-manager decides when the worker goes: generic-worker asks
// shouldWorkerTerminate on every pass of its claim loop (workers/generic-worker/main.go:587-590,
// 839-856) and exits 70, sending worker-runner `shutdown` (main.go:192-225); standalone, it never
// asks. The fake worker-manager answers what each test says.
import assert from 'node:assert/strict'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { FakeRunner } from '../helpers/fake-runner.js'
import { until } from '../helpers/tasks.js'
import { spawnWorker, workerConfig } from '../helpers/worker.js'

const ALL = ['graceful-termination', 'new-credentials', 'error-report', 'log', 'shutdown']

describe('worker-manager shouldWorkerTerminate', function () {
  let fake: FakeQueue
  let runner: FakeRunner | undefined
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => {
    if (runner && runner.child.exitCode === null) runner.child.kill('SIGKILL')
    runner = undefined
    await fake.stop()
  })

  async function start(overrides: Record<string, unknown> = {}): Promise<FakeRunner> {
    const config = await workerConfig(fake, overrides)
    runner = await FakeRunner.start(config, path.dirname(String(config.tasksDir)))
    runner.send({ type: 'welcome', capabilities: ALL })
    return runner
  }

  const asked = () => fake.requests.filter((q) => q.method === 'shouldWorkerTerminate' && q.status === 200).length

  it('worker-manager says terminate while a task runs: the task finishes, then shutdown and exit 70 (main.go:587-590, 220-222)', async () => {
    let terminate = false
    fake.shouldTerminate = () => terminate
    const r = await start()
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'sleep 1; echo done']], maxRunTime: 30 } })
    await until(() => fake.status(taskId).runs[0]?.state === 'running')
    terminate = true
    const other = slugid()
    await fake.createTask(other, { payload: { command: [['true']], maxRunTime: 30 } })
    assert.equal(await r.exited, 70)
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed', 'the running task was allowed to finish')
    assert.equal(fake.status(other).runs[0]!.state, 'pending', 'nothing claimed once worker-manager said terminate')
    assert.ok(r.messages.some((m) => m.type === 'shutdown'), 'exit 70 always sends shutdown')
  })

  it('idle timeout while worker-manager says keep running restarts the idle timer; its later terminate ends the worker (main_test.go TestIdleTimeoutChecksWorkerManager)', async () => {
    let terminate = false
    fake.shouldTerminate = () => terminate
    const r = await start({ idleTimeoutSecs: 1 })
    await until(() => r.messages.filter((m) => m.type === 'log' && String((m.body as { textPayload: string }).textPayload).startsWith('idle timeout reached but worker-manager says not to terminate')).length >= 2)
    assert.equal(r.child.exitCode, null, 'still running after two idle timeouts')
    terminate = true
    const code = await r.exited
    // the next check that hears "terminate" ends the worker: the claim loop's (70) or, if that
    // one came first, the idle timeout's (68); with shutdownMachineOnIdle false only 70 sends shutdown
    assert.ok(code === 70 || code === 68, `exit ${code}`)
    assert.equal(r.messages.some((m) => m.type === 'shutdown'), code === 70)
  })

  it('standalone, worker-manager is never asked: the idle timeout alone exits 68 (main.go:779, 854-855)', async () => {
    fake.shouldTerminate = () => true
    const worker = await spawnWorker(fake, { idleTimeoutSecs: 1 })
    assert.equal(await worker.exited, 68)
    assert.equal(asked(), 0)
  })
})
