// A task in, a resolution + log + artifacts out, through the fake Queue (generic-worker payloads).
import assert from 'node:assert/strict'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog, submitAndRun } from '../helpers/tasks.js'
import { TEST_WORKER_ID } from '../helpers/worker.js'

describe('native executor end to end (fake Queue)', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('completes a task whose commands exit 0, with the log uploaded and linked', async () => {
    const o = await submitAndRun(fake, { command: [['echo', 'hello world']], maxRunTime: 30 })
    assert.equal(o.exitCode, 0)
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'])
    const artifacts = fake.artifacts(o.taskId)
    const backing = artifacts.get('public/logs/live_backing.log')!
    assert.equal(backing.storageType, 's3')
    assert.equal(backing.contentType, 'text/plain; charset=utf-8')
    assert.equal(backing.contentEncoding, 'gzip')
    assert.match(o.log, /^hello world$/m)
    const live = artifacts.get('public/logs/live.log')!
    assert.equal(live.storageType, 'link')
    assert.equal(live.artifact, 'public/logs/live_backing.log')
  })

  it('writes generic-worker’s header, command lines, result block and footer', async () => {
    const o = await submitAndRun(fake, { command: [['echo', 'one two'], ['true']], maxRunTime: 30 })
    const ts = String.raw`\[taskcluster \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\]`
    const expected = [
      `${ts} Worker Type \\(test-provisioner/test-worker-type\\) settings:`,
      `${ts}   \\{`,
      `${ts}     "machine": "test"`,
      `${ts}   \\}`,
      `${ts} Task ID: ${o.taskId}`,
      `${ts} === Task Starting ===`,
      `${ts} Executing command 0: echo 'one two'`,
      'one two',
      `${ts}                        Exit Code: 0`,
      `${ts}                        User Time: \\S+`,
      `${ts}                      Kernel Time: \\S+`,
      `${ts}                        Wall Time: [0-9.]+(ms|s|µs)`,
      // the resource monitor's lines (on by default)
      `${ts}  Average Available System Memory: [0-9.]+ [kMGT]?B`,
      `${ts}       Average System Memory Used: [0-9.]+ [kMGT]?B`,
      `${ts}          Peak System Memory Used: [0-9.]+ [kMGT]?B`,
      `${ts}              Total System Memory: [0-9.]+ [kMGT]?B`,
      `${ts}                           Result: SUCCEEDED`,
      `${ts} Executing command 1: true`,
    ]
    const lines = o.log.split('\n')
    expected.forEach((re, i) => assert.match(lines[i]!, new RegExp(`^${re}$`), `line ${i}: ${lines[i]}`))
    assert.match(o.log, new RegExp(`${ts} === Task Finished ===\n${ts} Task Duration: [0-9.]+(ms|s)\n$`))
  })

  it('fails a task whose command exits 1, and runs no further command', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'echo before; exit 1'], ['echo', 'never printed']], maxRunTime: 30 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /Exit Code: 1\n.*User Time/)
    assert.match(o.log, /Result: FAILED/)
    assert.doesNotMatch(o.log, /never printed/)
    assert.match(o.log, /\n\[taskcluster:error\] exit status 1\n$/)
  })

  it('fails a task whose executable does not exist (system error, exit code -2)', async () => {
    const o = await submitAndRun(fake, { command: [['/nonexistent/binary']], maxRunTime: 30 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /\[taskcluster:error\] System error executing command: .*ENOENT/)
    assert.match(o.log, /Exit Code: -2/)
  })

  it('resolves malformed-payload with every validation error in the log', async () => {
    const o = await submitAndRun(fake, { maxRunTime: 'soon', env: { A: 1 }, extra: true })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    assert.match(o.log, /\[taskcluster:error\] TASK FAIL since the task payload is invalid\. See errors:/)
    assert.match(o.log, /\[taskcluster:error\] - \(root\): command is required/)
    assert.match(o.log, /\[taskcluster:error\] - maxRunTime: Invalid type\. Expected: integer, given: string/)
    assert.match(o.log, /\[taskcluster:error\] - env\.A: Invalid type\. Expected: string, given: integer/)
    assert.match(o.log, /\[taskcluster:error\] - \(root\): Additional property extra is not allowed/)
    assert.match(o.log, /Task payload for this worker type must conform to the following jsonschema:/)
    assert.doesNotMatch(o.log, /=== Task Starting ===/)
  })

  it('refuses what the insecure engine and this worker’s config do not offer, every problem by name (osGroups, loopbackAudio)', async () => {
    const o = await submitAndRun(fake, {
      command: [['true']],
      maxRunTime: 30,
      osGroups: ['docker'],
      features: { loopbackAudio: true },
    }, { config: { enableLoopbackAudio: false } }) // on by default on Linux (gwconfig/config_linux.go:36-38)
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    assert.match(o.log, /task payload contains unsupported osGroups: \[docker\]/)
    assert.match(o.log, /requires the feature "loopbackAudio", which is not enabled on worker pool test-provisioner\/test-worker-type/)
  })

  it('refuses a maxRunTime above the worker’s maxTaskRunTime', async () => {
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 310 }, { config: { maxTaskRunTime: 300 } })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    assert.match(o.log, /task's maxRunTime of 310 exceeded allowed maximum of 300/)
  })

  it('kills the process group when maxRunTime is exceeded and resolves failed', async () => {
    const started = Date.now()
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'sleep 60 & sleep 60; echo not reached'], ['echo', 'second command']], maxRunTime: 1 })
    assert.ok(Date.now() - started < 15_000, 'the task was stopped well before its commands would end')
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /Command ABORTED after [0-9.]+s: process aborted/)
    assert.match(o.log, /\[taskcluster:error\] task aborted - max run time exceeded/)
    assert.doesNotMatch(o.log, /^(second command|not reached)$/m)
    assert.doesNotMatch(o.log, /Executing command 1/)
  })

  it('resolves exception/intermittent-task for an exit code in onExitStatus.retry, and the Queue schedules a new run', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'exit 3']], maxRunTime: 30, onExitStatus: { retry: [3, 4] } })
    assert.deepEqual([o.state, o.reason], ['exception', 'intermittent-task'])
    const runs = fake.status(o.taskId).runs
    assert.equal(runs.length, 2)
    assert.deepEqual([runs[1]!.state, runs[1]!.reasonCreated], ['pending', 'task-retry'])
  })

  it('fails normally for an exit code not in onExitStatus.retry', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'exit 5']], maxRunTime: 30, onExitStatus: { retry: [3] } })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
  })

  it('uploads logs under the names in payload.logs, and no live log link when liveLog is off', async () => {
    const o = await submitAndRun(fake, { command: [['echo', 'x']], maxRunTime: 30, logs: { backing: 'public/custom/backing.log' }, features: { liveLog: false } })
    const names = [...fake.artifacts(o.taskId).keys()].sort()
    assert.deepEqual(names, ['public/custom/backing.log'])
    assert.match(backingLog(fake, o.taskId, 0, 'public/custom/backing.log'), /^x$/m)
  })

  it('does all per-task calls with the task credentials, never the worker’s', async () => {
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 30 })
    const perTask = fake.requests.filter((r) => r.params[0] === o.taskId && r.method !== 'createTask' && !r.method.startsWith('s3'))
    assert.ok(perTask.some((r) => r.method === 'reportCompleted'))
    for (const r of perTask) assert.match(r.clientId, new RegExp(`^task-client/${o.taskId}/0/on/test-worker-group/${TEST_WORKER_ID}/until/\\d+$`), r.method)
  })

  it('gives the task generic-worker’s environment, without the worker’s credentials', async () => {
    process.env.TASKCLUSTER_ACCESS_TOKEN = 'worker-secret-should-not-leak'
    try {
      const o = await submitAndRun(fake, { command: [['sh', '-c', 'env | sort']], maxRunTime: 30, env: { FOO: 'bar', RUN_ID: 'overridden?' } }, { config: { instanceType: 'm5.large', workerLocation: '{"cloud":"test"}' } })
      assert.match(o.log, new RegExp(`^TASK_ID=${o.taskId}$`, 'm'))
      assert.match(o.log, /^TASK_GROUP_ID=\S+$/m)
      assert.match(o.log, /^TASK_WORKDIR=\/.*\/task_[A-Za-z0-9]+_0$/m)
      assert.match(o.log, new RegExp(`^TASKCLUSTER_ROOT_URL=${fake.rootUrl}$`, 'm'))
      assert.match(o.log, /^TASKCLUSTER_INSTANCE_TYPE=m5\.large$/m)
      assert.match(o.log, /^TASKCLUSTER_WORKER_LOCATION=\{"cloud":"test"\}$/m)
      assert.match(o.log, /^FOO=bar$/m)
      assert.doesNotMatch(o.log, /worker-secret-should-not-leak/)
    } finally {
      delete process.env.TASKCLUSTER_ACCESS_TOKEN
    }
  })
})
