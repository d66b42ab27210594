// The worker-runner lifecycle pieces on their own: when the machine is shut down, the
// error-report and log bodies, and where the claim loop asks worker-manager.
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { slugid } from 'taskcluster-client'
import { defaultExecutors } from '../../executors/index.js'
import { buildConfig } from '../../src/config/config.js'
import { silentLogger } from '../../src/lib/logger.js'
import { ClaimLoop, type TerminateCheck } from '../../src/worker/claim-loop.js'
import { haltCommand, machineShutdown } from '../../src/worker/machine-shutdown.js'
import { debugInfo, errorReport, exitOnErrorDescription } from '../../src/worker/worker-runner/error-report.js'
import { RunnerProtocol } from '../../src/worker/worker-runner/protocol.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { workerConfig } from '../helpers/worker.js'

describe('machine shutdown on exit (workers/generic-worker/main.go:192-225)', () => {
  const off = { shutdownMachineOnIdle: false, shutdownMachineOnInternalError: false }
  const on = { shutdownMachineOnIdle: true, shutdownMachineOnInternalError: true }
  it('exit 70 always shuts down; 68 and 69 only with their switch; 0, 71, 72, 73 never', () => {
    assert.equal(machineShutdown(70, off, true), 'protocol')
    assert.equal(machineShutdown(68, off, true), 'none')
    assert.equal(machineShutdown(68, on, true), 'protocol')
    assert.equal(machineShutdown(69, off, true), 'none')
    assert.equal(machineShutdown(69, on, true), 'protocol')
    for (const code of [0, 71, 72, 73]) assert.equal(machineShutdown(code, on, true), 'none', `exit ${code}`)
  })
  it('without the runner\'s shutdown capability the host itself is halted (main.go:193-203, host/host_*_posix.go:15-21)', () => {
    assert.equal(machineShutdown(70, off, false), 'halt')
    assert.deepEqual(haltCommand({ engine: 'insecure' }, 68), ['/usr/bin/sudo', '/sbin/shutdown', '-h', 'now', 'generic-worker idle timeout'])
    assert.deepEqual(haltCommand({ engine: 'multiuser' }, 69), ['/sbin/shutdown', '-h', 'now', 'generic-worker internal error'])
    assert.deepEqual(haltCommand({ engine: 'multiuser' }, 70), ['/sbin/shutdown', '-h', 'now', 'worker manager requested termination'])
  })
})

describe('worker-runner message bodies', () => {
  it('error-report: title, kind and description as errorreport.go:14-31 and exitOnError (main.go:1348)', () => {
    const description = exitOnErrorDescription('Error loading configuration', 'no such file', 64)
    assert.equal(description, 'Error loading configuration, args: [], root cause: no such file, exit code: 64')
    assert.deepEqual(errorReport(description), { type: 'error-report', description, kind: 'worker-error', title: 'generic-worker error', extra: {} })
  })
  it('extra holds generic-worker\'s debug facts as strings (main.go:321-335, insecure.go:246-249, multiuser.go:395-399)', () => {
    const config = buildConfig([{ rootURL: 'https://tc.example', clientId: 'c', accessToken: 'a', workerType: 'wt', workerId: 'w1', capacity: 3, instanceType: 'm5.large' }])
    const facts = debugInfo(config, '1.2.3')
    assert.deepEqual(Object.keys(facts).sort(), ['GOARCH', 'GOOS', 'capacity', 'cleanUpTaskDirs', 'engine', 'gwRevision', 'gwVersion', 'instanceType', 'provisionerId', 'rootURL', 'workerGroup', 'workerId', 'workerType'])
    assert.equal(facts.capacity, '3')
    assert.equal(facts.cleanUpTaskDirs, 'true')
    assert.equal(facts.gwVersion, '1.2.3')
    assert.equal(facts.GOOS, 'linux')
    assert.ok(Object.values(facts).every((v) => typeof v === 'string'))
    assert.equal(debugInfo({ ...config, engine: 'multiuser', headlessTasks: true }, '1.2.3').headlessTasks, 'true')
  })
  it('log: body is {textPayload} only (workerrunner.go:36-45); hello lists every capability, sorted (protocol.go:67-75)', async () => {
    const input = new PassThrough()
    const output = new PassThrough()
    const lines: string[] = []
    output.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)))
    const protocol = new RunnerProtocol(input, output)
    input.write('~{"type":"welcome","capabilities":["log"]}\n')
    await protocol.ready()
    const destination = protocol.logDestination(new PassThrough())
    destination.write('{"level":30,"time":1,"pid":2,"hostname":"h","name":"megalodon","taskId":"abc","msg":"task resolved"}\n')
    destination.write('{"level":30,"time":1,"pid":2,"hostname":"h","name":"megalodon","msg":"worker started"}\n')
    assert.deepEqual(lines.map((l) => JSON.parse(l.slice(1)) as unknown), [
      { type: 'hello', capabilities: ['error-report', 'graceful-termination', 'log', 'new-credentials', 'shutdown'] },
      { type: 'log', body: { textPayload: 'task resolved {"taskId":"abc"}' } },
      { type: 'log', body: { textPayload: 'worker started' } },
    ])
    assert.equal(protocol.send('shutdown', { type: 'shutdown' }), false, 'not sent: the runner lacks the capability')
  })
  it('a graceful-termination that came before anyone listened reaches the late listener (graceful/graceful.go:46-60,80-95)', async () => {
    const input = new PassThrough()
    const protocol = new RunnerProtocol(input, new PassThrough())
    input.write('~{"type":"welcome","capabilities":["graceful-termination"]}\n')
    await protocol.ready()
    const early = new Promise((resolve) => protocol.once('message', (m) => m.type === 'graceful-termination' && resolve(m)))
    input.write('~{"type":"graceful-termination","finish-tasks":true}\n')
    await early
    const heard: Array<{ finishTasks: boolean }> = []
    protocol.onGracefulTermination((r) => heard.push(r))
    assert.deepEqual(heard, [{ finishTasks: true }])
    const later = new Promise((resolve) => protocol.once('graceful-termination', resolve))
    input.write('~{"type":"graceful-termination","finish-tasks":false}\n')
    await later
    assert.deepEqual(heard, [{ finishTasks: true }, { finishTasks: false }], 'later requests still reach it')
  })
})

describe('claim loop asks worker-manager (main.go:530-536, 587-590, 771-786)', function () {
  this.timeout(30_000)
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 100 }).start()
  })
  afterEach(async () => fake.stop())

  async function loop(overrides: Record<string, unknown>, answer: (when: TerminateCheck, calls: TerminateCheck[]) => boolean) {
    const calls: TerminateCheck[] = []
    const config = buildConfig([await workerConfig(fake, overrides)])
    const claimLoop = new ClaimLoop({
      config,
      executors: defaultExecutors(),
      logger: silentLogger(),
      queue: { rootUrl: fake.rootUrl },
      minClaimIntervalMs: 200,
      shouldTerminate: async (when) => {
        calls.push(when)
        return answer(when, calls)
      },
    })
    return { exitCode: await claimLoop.run(), calls }
  }

  it('at the idle timeout, "keep running" restarts the idle timer and "terminate" exits 68', async () => {
    const { exitCode, calls } = await loop({ idleTimeoutSecs: 1 }, (when, calls) => when === 'idle' && calls.filter((c) => c === 'idle').length >= 2)
    assert.equal(exitCode, 68)
    assert.equal(calls.filter((c) => c === 'idle').length, 2)
    assert.ok(calls.includes('claim-loop'), 'asked on every pass too')
  })

  it('numberOfTasksToRun reached: 70 if worker-manager says terminate, else 0', async () => {
    for (const [terminate, expected] of [[true, 70], [false, 0]] as const) {
      await fake.createTask(slugid(), { payload: { command: [['true']], maxRunTime: 30 } })
      const { exitCode, calls } = await loop({ numberOfTasksToRun: 1 }, (when) => when === 'tasks-done' && terminate)
      assert.equal(exitCode, expected)
      assert.equal(calls.at(-1), 'tasks-done')
    }
  })

  it('a "terminate" on a pass of the loop exits 70 before claiming', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['true']], maxRunTime: 30 } })
    const { exitCode } = await loop({}, () => true)
    assert.equal(exitCode, 70)
    assert.equal(fake.status(taskId).runs[0]!.state, 'pending', 'nothing claimed')
  })
})
