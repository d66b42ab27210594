// Claims over time against a real Queue: a cancel learned at reclaim, SIGTERM (worker-shutdown
// and the Queue's retry run) and SIGKILL (the Queue's claim-resolver expires the claim and
// retries). Each waits on the Queue, not on a clock; the claim timeout of the deployment
// (60 s for the shared one) bounds how long the reclaim and expiry scenarios take.
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readlinkSync } from 'node:fs'
import path from 'node:path'
import { deploymentEnv } from './deployment-env.js'
import { RecordingForwarder } from './recording-forwarder.js'
import { createTask, creatorQueue, download, listArtifacts, startWorker, status, tail, taskLog, waitForStatus, runResolved } from './harness.js'

// The task's first run waits for a long time; later runs finish at once (RUN_ID is the run's).
const untilRetried = { command: [['sh', '-c', 'echo "run $RUN_ID"; if [ "$RUN_ID" = 0 ]; then touch started; sleep 600; fi; echo done > out.txt']], maxRunTime: 900, artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }] }

const running = (runId: number) => (s: { runs: Array<{ state: string }> }) => s.runs[runId]?.state === 'running'

describe('deployment: claims, cancels and signals', function () {
  it('SIGTERM: the run resolves exception/worker-shutdown with its log, the worker exits 72, and the retry run completes', async () => {
    const taskId = await createTask({ payload: untilRetried, retries: 1 })
    const worker = await startWorker()
    await waitForStatus(taskId, running(0), 60_000)
    await commandStarted(worker)
    worker.child.kill('SIGTERM')
    const exit = await worker.exited
    assert.equal(exit.code, 72, tail(await worker.output()))
    const s = await waitForStatus(taskId, runResolved(0), 30_000)
    assert.deepEqual([s.runs[0]!.state, s.runs[0]!.reasonResolved], ['exception', 'worker-shutdown'])
    assert.deepEqual([s.runs[1]?.state, s.runs[1]?.reasonCreated], ['pending', 'retry'])
    assert.match(await taskLog(taskId, 0), /run 0/)
    const retry = await startWorker()
    await retry.exited
    const after = await waitForStatus(taskId, runResolved(1), 30_000)
    assert.deepEqual([after.runs[1]!.state, after.runs[1]!.reasonResolved], ['completed', 'completed'], tail(await retry.output()))
    assert.equal((await download(taskId, 1, 'public/out.txt', null)).body.toString(), 'done\n')
  })

  it('reclaims before takenUntil and signs everything after with the new task credentials', async function () {
    const claimSecs = Number(process.env.TC_QUEUE_CLAIM_TIMEOUT ?? 1200)
    if (claimSecs > 120) this.skip() // a reclaim comes after half the claim: only with short claims
    const taskId = await createTask({ payload: { command: [['sh', '-c', `sleep ${Math.ceil(claimSecs * 0.6)}; echo done > out.txt`]], maxRunTime: 600, artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }] } })
    const forwarder = await new RecordingForwarder(deploymentEnv().rootUrl).start()
    const worker = await startWorker({ rootURL: forwarder.rootUrl })
    await worker.exited
    await forwarder.stop()
    const s = await status(taskId)
    assert.deepEqual([s.runs[0]!.state, s.runs[0]!.reasonResolved], ['completed', 'completed'], tail(await worker.output()))
    const mine = forwarder.calls.filter((c) => c.path.includes(taskId))
    const reclaims = mine.filter((c) => c.method === 'Queue.reclaimTask')
    assert.ok(reclaims.length >= 1 && reclaims.every((c) => c.status === 200), JSON.stringify(mine))
    const firstSigner = mine[0]!.hawkId
    const reportSigner = mine.find((c) => c.method === 'Queue.reportCompleted')!.hawkId
    assert.ok(firstSigner && reportSigner && firstSigner !== reportSigner, `claim credentials ${firstSigner}, report signed by ${reportSigner}`)
    assert.equal((await download(taskId, 0, 'public/out.txt', null)).body.toString(), 'done\n')
  })

  it('cancel: learned at the next reclaim (409), the commands are killed and nothing more is reported', async () => {
    const taskId = await createTask({ payload: untilRetried })
    // the worker's calls are recorded (the forwarder) to see what it did after the 409
    const forwarder = await new RecordingForwarder(deploymentEnv().rootUrl).start()
    const worker = await startWorker({ rootURL: forwarder.rootUrl })
    await waitForStatus(taskId, running(0), 60_000)
    await commandStarted(worker)
    const before = await listArtifacts(taskId)
    await creatorQueue().cancelTask(taskId)
    const exit = await worker.exited
    await forwarder.stop()
    assert.equal(exit.code, 0, tail(await worker.output()))
    const conflict = forwarder.calls.findIndex((c) => c.method === 'Queue.reclaimTask' && c.status === 409)
    assert.ok(conflict >= 0, `a reclaim answered 409: ${JSON.stringify(forwarder.calls.map((c) => `${c.method} ${c.status}`))}`)
    const afterwards = forwarder.calls.slice(conflict + 1).filter((c) => c.method !== 'Queue.claimWork')
    assert.deepEqual(afterwards, [], 'nothing reported or uploaded after the 409')
    const s = await status(taskId)
    assert.deepEqual([s.runs[0]!.state, s.runs[0]!.reasonResolved], ['exception', 'canceled'])
    assert.equal(s.runs.length, 1)
    // no artifact after the cancel (the live log reference made at the start stays)
    assert.deepEqual([...(await listArtifacts(taskId)).keys()].sort(), [...before.keys()].sort())
  })

  it('SIGKILL: the claim expires (exception/claim-expired) and the retry run completes on another worker', async () => {
    const taskId = await createTask({ payload: untilRetried, retries: 1 })
    const worker = await startWorker()
    await waitForStatus(taskId, running(0), 60_000)
    await commandStarted(worker)
    worker.child.kill('SIGKILL')
    await worker.exited
    // the command the killed worker started is in its own process group: end it too
    killTaskProcesses(worker.dir)
    const s = await waitForStatus(taskId, runResolved(0), 300_000)
    assert.deepEqual([s.runs[0]!.state, s.runs[0]!.reasonResolved], ['exception', 'claim-expired'])
    assert.equal(s.runs[1]?.reasonCreated, 'retry')
    const retry = await startWorker()
    await retry.exited
    const after = await waitForStatus(taskId, runResolved(1), 30_000)
    assert.deepEqual([after.runs[1]!.state, after.runs[1]!.reasonResolved], ['completed', 'completed'], tail(await retry.output()))
  })
})

/** Wait until the worker's task directory shows the command started (it `touch`es a file). */
async function commandStarted(worker: { dir: string }, timeoutMs = 60_000): Promise<void> {
  const tasks = path.join(worker.dir, 'tasks')
  const end = Date.now() + timeoutMs
  while (!(existsSync(tasks) && readdirSync(tasks).some((d) => existsSync(path.join(tasks, d, 'started'))))) {
    if (Date.now() > end) throw new Error('the task command did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The killed worker's task command (`sleep 600`), found by its working directory under the worker's. */
function killTaskProcesses(dir: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) process.kill(Number(pid), 'SIGKILL')
    } catch {
      // gone already, or not ours to read
    }
  }
}
