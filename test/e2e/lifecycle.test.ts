// Claims over time: reclaims with fresh credentials, cancellation (409 on reclaim), Queue
// faults survived by retries, and the worker's own signals.
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog, madeInTaskDir, submitAndRun, until } from '../helpers/tasks.js'
import { runWorker, spawnWorker } from '../helpers/worker.js'


describe('task lifecycle (fake Queue)', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('reclaims before takenUntil and uses the new task credentials from then on', async () => {
    fake.claimTimeoutSecs = 2 // reclaim every second
    const o = await submitAndRun(fake, { command: [['sleep', '3.5']], maxRunTime: 30 })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'])
    const mine = fake.requests.filter((r) => r.params[0] === o.taskId)
    const reclaims = mine.filter((r) => r.method === 'reclaimTask')
    assert.ok(reclaims.length >= 2, `reclaimed ${reclaims.length} times`)
    assert.ok(reclaims.every((r) => r.status === 200))
    const claimCreds = mine.find((r) => r.method === 'reclaimTask')!.clientId
    const reportCreds = mine.find((r) => r.method === 'reportCompleted')!.clientId
    assert.notEqual(reportCreds, claimCreds, 'the report used credentials from a later reclaim')
  })

  it('stops a cancelled task (409 on reclaim), kills its commands and reports nothing', async () => {
    fake.claimTimeoutSecs = 2
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'echo started; sleep 60']], maxRunTime: 120, artifacts: [{ type: 'file', path: 'x', name: 'public/x' }] } })
    const worker = runWorker(fake, { numberOfTasksToRun: 1 })
    await until(() => fake.status(taskId).runs[0]?.state === 'running')
    await new Promise((r) => setTimeout(r, 300))
    const before = fake.requests.length
    await fake.cancelTask(taskId)
    const started = Date.now()
    const { exitCode } = await worker
    assert.equal(exitCode, 0)
    assert.ok(Date.now() - started < 30_000, 'the worker noticed at its next reclaim')
    const run = fake.status(taskId).runs[0]!
    assert.deepEqual([run.state, run.reasonResolved], ['exception', 'canceled'])
    const after = fake.requests.slice(before).filter((r) => r.params[0] === taskId && /^report|createArtifact/.test(r.method))
    assert.deepEqual(after, [], 'no report and no artifact after the cancel')
    assert.ok(fake.requests.some((r) => r.params[0] === taskId && r.method === 'reclaimTask' && r.status === 409))
  })

  // generic-worker taskstatus.go:166-173: any reclaim error kills the commands (SIGKILL,
  // process/posix.go:70-99); the aborted command fails the task, `task was aborted` (posix.go:33-35)
  it('a reclaim refused other than with 409 kills the commands at once and fails the task', async () => {
    fake.claimTimeoutSecs = 2 // reclaim after a second
    fake.injectFault({ method: 'reclaimTask', status: 400 })
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'trap "echo trapped; exit 0" TERM; echo started; sleep 60 & wait'], ['echo', 'after']], maxRunTime: 120 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /^started$/m)
    assert.match(o.log, /task was aborted/)
    assert.doesNotMatch(o.log, /^trapped$/m)
    assert.doesNotMatch(o.log, /Executing command 1/)
    assert.ok(fake.requests.some((r) => r.params[0] === o.taskId && r.method === 'reclaimTask' && r.status === 400))
  })

  it('survives Queue 500s and dropped connections on claim, upload and report', async () => {
    fake.injectFault({ method: 'claimWork', status: 500, times: 2 })
    fake.injectFault({ method: 'claimWork', reset: true })
    fake.injectFault({ method: 'createArtifact', status: 503 })
    fake.injectFault({ method: 's3Put', status: 500 })
    fake.injectFault({ method: 'reportCompleted', status: 500, times: 2 })
    const o = await submitAndRun(fake, { command: [['echo', 'resilient']], maxRunTime: 30 })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'])
    assert.match(o.log, /^resilient$/m)
    const failures = fake.requests.filter((r) => r.status >= 500 || r.status === 0).map((r) => r.method)
    assert.ok(failures.filter((m) => m === 'reportCompleted').length === 2, failures.join(','))
  })

  it('does not retry a 4xx answer: a refused report is logged, the worker goes on', async () => {
    fake.injectFault({ method: 'reportCompleted', status: 403 })
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 30 })
    assert.equal(fake.requests.filter((r) => r.method === 'reportCompleted').length, 1)
    assert.equal(o.state, 'running', 'the run stays claimed until it expires, as in the real Queue')
  })

  it('SIGTERM aborts running tasks as exception/worker-shutdown, uploads their logs, exits 72', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'echo working; touch started; sleep 60']], maxRunTime: 120 } })
    const w = await spawnWorker(fake)
    // the command has printed its line once it has made `started` in its task directory
    await until(() => madeInTaskDir(String(w.config.tasksDir)))
    w.child.kill('SIGTERM')
    assert.equal(await w.exited, 72, w.stderr())
    const runs = fake.status(taskId).runs
    assert.deepEqual([runs[0]!.state, runs[0]!.reasonResolved], ['exception', 'worker-shutdown'])
    assert.deepEqual([runs[1]!.state, runs[1]!.reasonCreated], ['pending', 'retry'])
    const log = backingLog(fake, taskId)
    assert.match(log, /^working$/m)
    assert.match(log, /Command ABORTED after/)
    // generic-worker's footer for this abort (abort_feature.go:63)
    assert.match(log, /\[taskcluster:error\] graceful termination requested, without time to finish tasks\n$/)
  })

  it('SIGINT lets the running task finish, then exits 71', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'sleep 1.5; echo finished']], maxRunTime: 120 } })
    const w = await spawnWorker(fake)
    await until(() => fake.status(taskId).runs[0]?.state === 'running')
    w.child.kill('SIGINT')
    assert.equal(await w.exited, 71, w.stderr())
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
    assert.match(backingLog(fake, taskId), /^finished$/m)
  })

  it('exits 68 after idleTimeoutSecs without work', async () => {
    const { exitCode } = await runWorker(fake, { idleTimeoutSecs: 1 })
    assert.equal(exitCode, 68)
  })

  it('runs tasks side by side up to capacity', async () => {
    const ids = [slugid(), slugid(), slugid()]
    for (const id of ids) await fake.createTask(id, { payload: { command: [['sleep', '1']], maxRunTime: 30 } })
    await runWorker(fake, { numberOfTasksToRun: 3, capacity: 3 })
    const runs = ids.map((id) => fake.state.get(id).runs[0]!)
    const lastStart = Math.max(...runs.map((r) => Date.parse(r.started!)))
    const firstEnd = Math.min(...runs.map((r) => Date.parse(r.resolved!)))
    assert.ok(lastStart < firstEnd, 'every task was claimed before any resolved: they ran side by side')
    for (const id of ids) assert.equal(fake.status(id).runs[0]!.state, 'completed')
  })
})
