// A task in, a resolution + log + artifacts out, through the fake Queue (generic-worker payloads).
import { workerUserGroups } from '../../executors/native/payload.js'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
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
      // main.go:308-320 merges generic-worker's own entry (insecure.go:251-258: config.capacity);
      // MarshalIndent sorts the keys
      `${ts}   \\{`,
      `${ts}     "generic-worker": \\{`,
      `${ts}       "config": \\{`,
      `${ts}         "capacity": 1`,
      `${ts}       \\},`,
      `${ts}       "engine": "insecure",`,
      `${ts}       "go-arch": "(amd64|arm64)",`,
      `${ts}       "go-os": "linux",`,
      `${ts}       "version": "\\d+\\.\\d+\\.\\d+"`,
      `${ts}     \\},`,
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
      // no memory lines: the resource monitor's first sample is 500 ms after the start
      // (process/process.go:220), and the lines need one (process.go:132)
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

  it('fails a task whose executable does not exist: one info line in Go’s words, no result block, the error as footer (process/process.go:146-147, posix.go:32-43)', async () => {
    const o = await submitAndRun(fake, { command: [['/nonexistent/binary']], maxRunTime: 30 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /\[taskcluster \S+\] System error executing command: fork\/exec \/nonexistent\/binary: no such file or directory\n/)
    assert.doesNotMatch(o.log, /Exit Code/)
    assert.match(o.log, /\n\[taskcluster:error\] fork\/exec \/nonexistent\/binary: no such file or directory\n$/)
    const bare = await submitAndRun(fake, { command: [['no-such-command-here']], maxRunTime: 30 })
    assert.match(bare.log, /\n\[taskcluster:error\] exec: "no-such-command-here": executable file not found in \$PATH\n$/)
  })

  // process/insecure.go:46 exec.Command(commandLine[0], …): Go's LookPath reads the worker's
  // PATH (os.Getenv), and Args[0] stays the name as given
  it('finds a bare command with the worker’s PATH, never the payload’s, and passes the name as argv[0]', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'echo "zero=$0 path=$PATH"']], env: { PATH: '/nonexistent' }, maxRunTime: 30 })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.match(o.log, /^zero=sh path=\/nonexistent$/m)
    const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-task-path-'))
    writeFileSync(path.join(dir, 'only-on-task-path'), '#!/bin/sh\necho SHOULD-NOT-RUN\n', { mode: 0o755 })
    const only = await submitAndRun(fake, { command: [['only-on-task-path']], env: { PATH: `${dir}:/usr/bin:/bin` }, maxRunTime: 30 })
    assert.deepEqual([only.state, only.reason], ['failed', 'failed'])
    assert.doesNotMatch(only.log, /SHOULD-NOT-RUN/)
    assert.match(only.log, /\n\[taskcluster:error\] exec: "only-on-task-path": executable file not found in \$PATH\n$/)
  })

  it('gives the command one pipe for stdout and stderr, as Go’s exec does for one writer: order kept, /dev/stderr opens (process/process.go:174-177, os/exec interfaceEqual)', async () => {
    const script = [
      '[ /proc/self/fd/1 -ef /proc/self/fd/2 ] && echo one-fd',
      'stat -L -c "type=%F" /proc/self/fd/1',
      'echo via-dev-stdout > /dev/stdout; echo via-dev-stderr > /dev/stderr',
      'i=0; while [ $i -lt 200 ]; do echo "o$i"; echo "e$i" >&2; i=$((i+1)); done',
    ].join('; ')
    const o = await submitAndRun(fake, { command: [['sh', '-c', script]], maxRunTime: 60 })
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, /^one-fd$/m)
    assert.match(o.log, /^type=fifo$/m)
    assert.match(o.log, /^via-dev-stdout\nvia-dev-stderr$/m)
    const lines = o.log.split('\n').filter((l) => /^[oe]\d+$/.test(l))
    assert.deepEqual(lines, Array.from({ length: 200 }, (_, i) => [`o${i}`, `e${i}`]).flat(), 'in the order written')
  })

  it('ends the log of a command killed by a signal with Go’s ExitError text (signal: killed)', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'kill -9 $$']], maxRunTime: 30 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    // process/process.go:61-63: -1 for a signal
    assert.match(o.log, /Exit Code: -1\n/)
    assert.match(o.log, /\n\[taskcluster:error\] signal: killed\n$/)
  })

  it('resolves malformed-payload with every validation error in the log', async () => {
    const o = await submitAndRun(fake, { maxRunTime: 'soon', env: { A: 1 }, extra: true })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    // the posix schemas are oneOf [generic, docker] (schemas/insecure_posix.yml:5): gojsonschema's oneOf error comes first
    assert.match(o.log, /\[taskcluster:error\] TASK FAIL since the task payload is invalid\. See errors:\n\[taskcluster:error\] - \(root\): Must validate one and only one schema \(oneOf\)\n/)
    assert.match(o.log, /\[taskcluster:error\] - \(root\): command is required/)
    assert.match(o.log, /\[taskcluster:error\] - maxRunTime: Invalid type\. Expected: integer, given: string/)
    assert.match(o.log, /\[taskcluster:error\] - env\.A: Invalid type\. Expected: string, given: integer/)
    assert.match(o.log, /\[taskcluster:error\] - \(root\): Additional property extra is not allowed/)
    // main.go:935-938: the schema first, every line an error line; the footer main.go:968
    assert.match(o.log, /=== Task Starting ===\n\[taskcluster:error\] Task payload for this worker type must conform to the following jsonschema:\n\[taskcluster:error\] \{\n/)
    // the insecure engine's schema: no runTaskAsCurrentUser, which the multiuser one has (multiuser.test.ts)
    assert.doesNotMatch(o.log, /"runTaskAsCurrentUser"/)
    assert.match(o.log, /\n\[taskcluster:error\] validation of payload failed for task \S+\n$/)
    // backing_log_feature.go:68: written with the header, before validation
    assert.match(o.log, /Task ID: \S+\n\[taskcluster \S+\] === Task Starting ===\n/)
  })

  it('insecure engine: osGroups the worker user already belongs to are accepted (os_groups_insecure.go:16-37)', async () => {
    const primary = [...workerUserGroups()].find((g) => g.length > 0)
    assert.ok(primary, 'the worker user has a group')
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 30, osGroups: [primary] })
    assert.equal(o.state, 'completed', o.log)
  })

  it('refuses what the insecure engine and this worker’s config do not offer, every problem by name (osGroups, loopbackAudio)', async () => {
    const o = await submitAndRun(fake, {
      command: [['true']],
      maxRunTime: 30,
      osGroups: ['docker'],
      features: { loopbackAudio: true },
    }, { config: { enableLoopbackAudio: false } }) // on by default on Linux (gwconfig/config_linux.go:36-38)
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    // os_groups_insecure.go:27-34: the groups the worker user lacks, then the ones it has
    assert.match(o.log, /task payload contains unsupported osGroups: \[docker\]\n(\[taskcluster:error\] )?allowed values \(on this worker pool\): \[/)
    // main.go:1207-1213, the feature by its Name() and the pool's worker-manager page
    const rootURL = fake.rootUrl
    assert.ok(
      o.log.includes(
        `[taskcluster:error] this task is attempting to use feature "LoopbackAudio", but it's not enabled on this worker pool (test-provisioner/test-worker-type)\n` +
          `[taskcluster:error] If you do not require this feature, remove the toggle from the task definition.\n` +
          `[taskcluster:error] If you do require this feature, please do one of two things:\n` +
          `[taskcluster:error] \t1. Contact the owner of the worker pool test-provisioner/test-worker-type (see ${rootURL}/worker-manager/test-provisioner%2Ftest-worker-type) and ask for "LoopbackAudio" to be enabled.\n` +
          `[taskcluster:error] \t2. Use a worker pool that already allows "LoopbackAudio"\n`,
      ),
      o.log,
    )
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
    // taskstatus.go:213 logs "Aborting task..." before the kill; process.go:143-144's text ends
    // in a newline, an empty line of its own
    assert.match(o.log, /\[taskcluster:error\] Aborting task\.\.\.\n(.*\n)*\[taskcluster \S+\] Command ABORTED after [0-9.]+s: process aborted\n(\[taskcluster \S+\] +[A-Z].*\n)*\[taskcluster \S+\] \n/)
    assert.match(o.log, /\[taskcluster:error\] task aborted - max run time exceeded/)
    // the Mounts feature runs for every task and says why it purges (mounts_feature.go:690-692)
    assert.match(o.log, /\[taskcluster \S+\] \[mounts\] Purging caches since the task was aborted and may have left them in an inconsistent state\n/)
    assert.doesNotMatch(o.log, /^(second command|not reached)$/m)
    assert.doesNotMatch(o.log, /Executing command 1/)
  })

  it('resolves exception/intermittent-task for an exit code in onExitStatus.retry, and the Queue schedules a new run', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'exit 3']], maxRunTime: 30, onExitStatus: { retry: [3, 4] } })
    assert.deepEqual([o.state, o.reason], ['exception', 'intermittent-task'])
    // main.go:1092-1096
    assert.match(o.log, /\n\[taskcluster:error\] task appears to have failed intermittently - exit code 3 found in task payload.onExitStatus list\n$/)
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

  // generic-worker max_run_time_feature.go:59 then process/posix.go:70-99: the process group is
  // killed with SIGKILL at once, so a SIGTERM trap never runs and later commands do not start
  it('kills the commands with SIGKILL at maxRunTime: no SIGTERM grace, the task fails', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'trap "echo trapped; exit 0" TERM; echo started; sleep 60 & wait'], ['echo', 'after']], maxRunTime: 1 })
    assert.equal(o.state, 'failed')
    assert.match(o.log, /^started$/m)
    assert.match(o.log, /task aborted - max run time exceeded/)
    assert.doesNotMatch(o.log, /^trapped$/m)
    assert.doesNotMatch(o.log, /Executing command 1/)
  })

  it('does all per-task calls with the task credentials, never the worker’s', async () => {
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 30 })
    const perTask = fake.requests.filter((r) => r.params[0] === o.taskId && r.method !== 'createTask' && !r.method.startsWith('s3'))
    assert.ok(perTask.some((r) => r.method === 'reportCompleted'))
    for (const r of perTask) assert.match(r.clientId, new RegExp(`^task-client/${o.taskId}/0/on/test-worker-group/${TEST_WORKER_ID}/until/\\d+$`), r.method)
  })

  // generic-worker insecure.go:207-233: the worker's environment minus TASKCLUSTER_ACCESS_TOKEN,
  // then the payload's env, then TASK_ID, RUN_ID, TASK_WORKDIR, TASK_GROUP_ID,
  // TASKCLUSTER_ROOT_URL, the worker location and instance type, which the payload cannot override
  it('gives the task generic-worker’s environment, without the worker’s access token; the payload cannot override the worker’s variables', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, { TASKCLUSTER_ACCESS_TOKEN: 'worker-secret-should-not-leak', TASKCLUSTER_CLIENT_ID: 'worker/inherited', MEGALODON_ACCESS_TOKEN: 'megalodon-setting-should-not-leak', SOME_WORKER_VAR: 'inherited' })
    try {
      const override = { RUN_ID: 'overridden?', TASK_ID: 'x', TASK_WORKDIR: '/x', TASK_GROUP_ID: 'x', TASKCLUSTER_ROOT_URL: 'x', TASKCLUSTER_INSTANCE_TYPE: 'x', TASKCLUSTER_WORKER_LOCATION: 'x', SOME_WORKER_VAR: 'payload' }
      const o = await submitAndRun(fake, { command: [['sh', '-c', 'env | sort']], maxRunTime: 30, env: { FOO: 'bar', ...override } }, { config: { instanceType: 'm5.large', workerLocation: '{"cloud":"test"}' } })
      assert.match(o.log, new RegExp(`^TASK_ID=${o.taskId}$`, 'm'))
      assert.match(o.log, /^RUN_ID=0$/m)
      assert.match(o.log, /^TASK_GROUP_ID=[A-Za-z0-9_-]{22}$/m)
      assert.match(o.log, /^TASK_WORKDIR=\/.*\/task_[A-Za-z0-9_-]+_0$/m)
      assert.match(o.log, new RegExp(`^TASKCLUSTER_ROOT_URL=${fake.rootUrl}$`, 'm'))
      assert.match(o.log, /^TASKCLUSTER_INSTANCE_TYPE=m5\.large$/m)
      assert.match(o.log, /^TASKCLUSTER_WORKER_LOCATION=\{"cloud":"test"\}$/m)
      assert.match(o.log, /^FOO=bar$/m)
      assert.match(o.log, /^SOME_WORKER_VAR=payload$/m, 'the payload overrides the inherited environment')
      assert.match(o.log, /^TASKCLUSTER_CLIENT_ID=worker\/inherited$/m, 'only the access token is removed')
      assert.doesNotMatch(o.log, /worker-secret-should-not-leak|megalodon-setting-should-not-leak|overridden\?|^TASK_WORKDIR=\/x$/m)
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })
})
