// Standalone registration with the real worker-manager (static provider): registerWorker with
// the worker's identity proof, re-registration before the short-lived credentials expire, and
// a task claimed with the renewed credentials after the first ones have expired.
import assert from 'node:assert/strict'
import taskcluster from 'taskcluster-client'
import { deploymentEnv } from './deployment-env.js'
import { createTask, startWorker, status, tail, WORKER_GROUP } from './harness.js'
import { RecordingForwarder } from './recording-forwarder.js'

interface WorkerManagerAdmin {
  createWorker(workerPoolId: string, workerGroup: string, workerId: string, body: Record<string, unknown>): Promise<unknown>
}

describe('deployment: worker-manager', function () {
  before(function () {
    if (!deploymentEnv().workerManager) this.skip() // no static-provider secret given
  })

  it('registers, re-registers before its credentials expire, and claims with the new ones after the first expired', async () => {
    const env = deploymentEnv()
    const { staticSecret, shortPool } = env.workerManager!
    const workerId = `wm${process.pid}-${Date.now().toString(36)}`
    const admin = new taskcluster.WorkerManager({ rootUrl: env.rootUrl, credentials: env.creator }) as unknown as WorkerManagerAdmin
    await admin.createWorker(shortPool, WORKER_GROUP, workerId, { expires: new Date(Date.now() + 3600_000).toISOString(), capacity: 1, providerInfo: { staticSecret } })

    const forwarder = await new RecordingForwarder(env.rootUrl).start()
    const [provisionerId, workerType] = shortPool.split('/') as [string, string]
    const worker = await startWorker({
      rootURL: forwarder.rootUrl,
      clientId: undefined,
      accessToken: undefined,
      provisionerId,
      workerType,
      workerId,
      workerManager: { providerId: 'static', workerIdentityProof: { staticSecret } },
      idleTimeoutSecs: 600,
    })
    try {
      const registered = await waitForCall(forwarder, 'WorkerManager.registerWorker', 60_000)
      assert.equal(registered.status, 200, tail(await worker.output()))
      const renewed = await waitForCall(forwarder, 'WorkerManager.reregisterWorker', 120_000)
      assert.equal(renewed.status, 200, tail(await worker.output()))
      // the pool's credentials last 90 s: wait until the first ones are past, then give it work
      const firstExpired = registered.at + 95_000
      await new Promise((r) => setTimeout(r, Math.max(0, firstExpired - Date.now())))
      const taskId = await createTask({ payload: { command: [['sh', '-c', 'echo registered']], maxRunTime: 60 }, taskQueueId: shortPool })
      const exit = await worker.exited
      assert.equal(exit.code, 0, tail(await worker.output()))
      const s = await status(taskId)
      assert.deepEqual([s.runs[0]!.state, s.runs[0]!.reasonResolved, s.runs[0]!.workerId], ['completed', 'completed', workerId])
      const refused = forwarder.calls.filter((c) => c.status === 401 || c.status === 403)
      assert.deepEqual(refused, [], 'no call was refused for expired credentials')
    } finally {
      worker.child.kill('SIGKILL')
      await forwarder.stop()
    }
  })
})

async function waitForCall(forwarder: RecordingForwarder, method: string, timeoutMs: number): Promise<{ status: number; at: number }> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const call = forwarder.calls.find((c) => c.method === method && c.status !== 0)
    if (call) return { status: call.status, at: call.at }
    if (Date.now() > end) throw new Error(`no ${method} call in ${timeoutMs} ms: ${forwarder.calls.map((c) => c.method).join(', ')}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
