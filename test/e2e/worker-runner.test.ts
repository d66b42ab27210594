// Playing worker-runner end to end: megalodon started as `run --config FILE
// --with-worker-runner`, the protocol on stdin/stdout, the fake Queue checking every call.
import assert from 'node:assert/strict'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { FakeRunner } from '../helpers/fake-runner.js'
import { backingLog, madeInTaskDir, until } from '../helpers/tasks.js'
import { TASK_QUEUE_ID, TEST_WORKER_ID, workerConfig } from '../helpers/worker.js'

const ALL = ['graceful-termination', 'new-credentials', 'error-report', 'log', 'shutdown']


describe('under worker-runner (protocol on stdin/stdout)', function () {
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

  let tasksDir = ''
  async function start(overrides: Record<string, unknown> = {}): Promise<FakeRunner> {
    const config = await workerConfig(fake, overrides)
    tasksDir = String(config.tasksDir)
    runner = await FakeRunner.start(config, path.dirname(String(config.tasksDir)))
    runner.send({ type: 'welcome', capabilities: [...ALL, 'some-future-capability'] })
    return runner
  }

  it('says hello, runs tasks, honours new-credentials, logs through the protocol, sends shutdown after numberOfTasksToRun', async () => {
    const r = await start({ numberOfTasksToRun: 2 })
    const hello = await r.waitFor((m) => m.type === 'hello')
    assert.deepEqual([...(hello.capabilities as string[])].sort(), [...ALL].sort())

    const first = slugid()
    await fake.createTask(first, { payload: { command: [['echo', 'one']], maxRunTime: 30 } })
    await fake.waitForResolution(first)
    assert.equal(fake.status(first).runs[0]!.state, 'completed')

    // new credentials: the next claims must use them (the old client is then revoked)
    fake.auth.addClient('worker/renewed', 'renewed-secret-0123456789', [`queue:claim-work:${TASK_QUEUE_ID}`, `queue:worker-id:test-worker-group/${TEST_WORKER_ID}`])
    r.send({ type: 'new-credentials', 'client-id': 'worker/renewed', 'access-token': 'renewed-secret-0123456789' })
    await until(() => fake.requests.some((q) => q.method === 'claimWork' && q.clientId === 'worker/renewed'))
    fake.auth.removeClient('worker/test')
    const second = slugid()
    await fake.createTask(second, { payload: { command: [['echo', 'two']], maxRunTime: 30 } })
    await fake.waitForResolution(second)
    assert.equal(fake.status(second).runs[0]!.state, 'completed')

    await r.waitFor((m) => m.type === 'shutdown')
    assert.equal(await r.exited, 0)
    const logs = r.messages.filter((m) => m.type === 'log') as unknown as Array<{ body: { textPayload: string; taskId?: string } }>
    assert.ok(logs.some((l) => l.body.textPayload === 'worker started'))
    assert.ok(logs.some((l) => l.body.textPayload === 'task resolved' && l.body.taskId === second))
    assert.deepEqual(r.otherStdout, [], 'nothing but protocol lines on stdout')
  })

  it('graceful-termination with finish-tasks true: stops claiming, finishes the running task, exits 72', async () => {
    const r = await start()
    await r.waitFor((m) => m.type === 'hello')
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'sleep 1; echo done']], maxRunTime: 30 } })
    await until(() => fake.status(taskId).runs[0]!.state === 'running')
    r.send({ type: 'graceful-termination', 'finish-tasks': true })
    const other = slugid()
    await fake.createTask(other, { payload: { command: [['true']], maxRunTime: 30 } })
    assert.equal(await r.exited, 72)
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
    assert.equal(fake.status(other).runs[0]!.state, 'pending', 'nothing claimed after the termination request')
    assert.ok(!r.messages.some((m) => m.type === 'shutdown'))
  })

  it('graceful-termination with finish-tasks false: aborts the running task as worker-shutdown, uploads its log, exits 72', async () => {
    const r = await start()
    await r.waitFor((m) => m.type === 'hello')
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'echo started; touch started; sleep 60']], maxRunTime: 120 } })
    await until(() => madeInTaskDir(tasksDir))
    r.send({ type: 'graceful-termination', 'finish-tasks': false })
    assert.equal(await r.exited, 72)
    const run = fake.status(taskId).runs[0]!
    assert.deepEqual([run.state, run.reasonResolved], ['exception', 'worker-shutdown'])
    assert.match(backingLog(fake, taskId), /^started$/m)
  })

  it('sends error-report for an invalid config and exits 73', async () => {
    const r = await start({ capacity: 0 })
    const report = await r.waitFor((m) => m.type === 'error-report')
    assert.equal(report.title, 'invalid worker configuration')
    assert.match(String(report.description), /capacity must be at least 1 \(got 0\)/)
    assert.equal(await r.exited, 73)
  })

  it('negotiates only what the runner offers: no log capability means logs stay on stderr', async () => {
    const config = await workerConfig(fake, { idleTimeoutSecs: 1 })
    runner = await FakeRunner.start(config, path.dirname(String(config.tasksDir)))
    runner.send({ type: 'welcome', capabilities: ['graceful-termination'] })
    const hello = await runner.waitFor((m) => m.type === 'hello')
    assert.deepEqual(hello.capabilities, ['graceful-termination'])
    assert.equal(await runner.exited, 68)
    assert.ok(!runner.messages.some((m) => m.type === 'log' || m.type === 'shutdown'))
    assert.match(runner.stderr, /"msg":"idle timeout"/)
  })
})
