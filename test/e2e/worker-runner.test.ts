// Playing worker-runner end to end: megalodon started as `run --config FILE
// --with-worker-runner`, the protocol on stdin/stdout, the fake Queue checking every call.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { constants, openSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { Socket } from 'node:net'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { slugid } from 'taskcluster-client'
import { cliEntry } from '../../src/lib/paths.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { FakeRunner } from '../helpers/fake-runner.js'
import { backingLog, madeInTaskDir, until } from '../helpers/tasks.js'
import { TASK_QUEUE_ID, TEST_WORKER_ID, workerConfig } from '../helpers/worker.js'

const ALL = ['graceful-termination', 'new-credentials', 'error-report', 'log', 'shutdown']
/** generic-worker's hello: all five local capabilities, sorted (tools/workerproto/capabilities.go:26-33, workerrunner.go:81-104). */
const HELLO = ['error-report', 'graceful-termination', 'log', 'new-credentials', 'shutdown']


describe('under worker-runner (protocol on stdin/stdout)', function () {
  let fake: FakeQueue
  let runner: FakeRunner | undefined
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    fake.shouldTerminate = () => false
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

  it('says hello, runs tasks, honours new-credentials, logs through the protocol, exits 0 after numberOfTasksToRun without shutdown (main.go:192-225)', async () => {
    const r = await start({ numberOfTasksToRun: 2 })
    const hello = await r.waitFor((m) => m.type === 'hello')
    assert.deepEqual(hello.capabilities, HELLO)

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

    assert.equal(await r.exited, 0)
    assert.ok(!r.messages.some((m) => m.type === 'shutdown'), 'generic-worker never sends shutdown on exit 0')
    // worker-manager was asked when the tasks were done (main.go:530-536)
    assert.ok(fake.requests.some((q) => q.method === 'shouldWorkerTerminate' && q.status === 200))
    // generic-worker's log messages carry only textPayload (workerrunner.go:36-45)
    const logs = r.messages.filter((m) => m.type === 'log') as unknown as Array<{ body: Record<string, unknown> }>
    assert.ok(logs.every((l) => Object.keys(l.body).join() === 'textPayload'))
    const texts = logs.map((l) => String(l.body.textPayload))
    assert.ok(texts.some((t) => t.startsWith('worker started ')))
    assert.ok(texts.some((t) => t.startsWith('task resolved ') && t.includes(`"taskId":"${second}"`)))
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

  // generic-worker main.go:148-166: with --worker-runner-protocol-pipe P the protocol goes over
  // P-input (written) and P-output (read); either failing to open exits 78 (usage.go:21)
  it('speaks the protocol over --worker-runner-protocol-pipe, and exits 78 when the pipes cannot be opened', async () => {
    const config = await workerConfig(fake)
    const dir = path.dirname(String(config.tasksDir))
    const file = path.join(dir, 'generic-worker.config')
    await writeFile(file, JSON.stringify(config))
    const pipe = path.join(dir, 'protocol')
    const launch = () => spawn(process.execPath, [cliEntry, 'run', '--config', file, '--with-worker-runner', '--worker-runner-protocol-pipe', pipe], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir })
    const missing = launch()
    assert.equal(await new Promise((r) => missing.once('exit', r)), 78)

    execFileSync('mkfifo', [`${pipe}-input`, `${pipe}-output`])
    const child = launch()
    child.stderr!.resume() // a full stderr pipe would stall the worker
    const exited = new Promise((r) => child.once('exit', r))
    // Our ends are opened without blocking, so that no thread-pool thread waits on a FIFO: the
    // read end O_RDWR (it opens at once and never sees EOF between writers), the write end
    // O_WRONLY|O_NONBLOCK, which fails with ENXIO until the worker has opened its read end.
    const fromWorker = new Socket({ fd: openSync(`${pipe}-input`, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false })
    let writeFd: number | undefined
    await until(() => {
      try {
        writeFd = openSync(`${pipe}-output`, constants.O_WRONLY | constants.O_NONBLOCK)
        return true
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err
        return false
      }
    })
    const toWorker = new Socket({ fd: writeFd!, readable: false, writable: true })
    const send = (message: object) => new Promise<void>((resolve, reject) => toWorker.write(`~${JSON.stringify(message)}\n`, (err) => (err ? reject(err) : resolve())))
    const lines: string[] = []
    createInterface({ input: fromWorker }).on('line', (l) => lines.push(l))
    try {
      await send({ type: 'welcome', capabilities: ALL })
      await until(() => lines.some((l) => l.startsWith('~{"type":"hello"')))
      await until(() => lines.some((l) => l.includes('"type":"log"')))
      await send({ type: 'graceful-termination', 'finish-tasks': true })
      assert.equal(await exited, 72)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      fromWorker.destroy()
      toWorker.destroy()
    }
  })

  it('sends error-report for an invalid config and exits 73 (errorreport.go:14-31, main.go:417, 1341-1352)', async () => {
    const r = await start({ capacity: 0 })
    const report = await r.waitFor((m) => m.type === 'error-report')
    assert.equal(report.title, 'generic-worker error')
    assert.equal(report.kind, 'worker-error')
    assert.match(String(report.description), /^Invalid config, args: \[\], root cause: .*capacity must be at least 1 \(got 0\).*, exit code: 73$/)
    assert.deepEqual(report.extra, {})
    assert.equal(await r.exited, 73)
  })

  it('hello lists all its capabilities but uses only those the runner offers: no log capability means logs stay on stderr (protocol.go:67-75, 125-128)', async () => {
    // worker-manager keeps saying no: the idle timeout only restarts the idle timer (main.go:771-786)
    const config = await workerConfig(fake, { idleTimeoutSecs: 1 })
    runner = await FakeRunner.start(config, path.dirname(String(config.tasksDir)))
    runner.send({ type: 'welcome', capabilities: ['graceful-termination'] })
    const hello = await runner.waitFor((m) => m.type === 'hello')
    assert.deepEqual(hello.capabilities, HELLO)
    const r = runner
    await until(() => r.stderr.split('idle timer reset').length > 2)
    r.send({ type: 'graceful-termination', 'finish-tasks': true })
    assert.equal(await r.exited, 72)
    assert.ok(!r.messages.some((m) => m.type === 'log' || m.type === 'shutdown' || m.type === 'error-report'))
  })
})
