// Operating a worker: metrics that move, `megalodon status`, standalone worker-manager
// registration, and a generic-worker config file as worker-runner writes it.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import net from 'node:net'
import { slugid } from 'taskcluster-client'
import { projectPath } from '../src/paths.js'
import { FakeQueue } from './helpers/fake-queue/index.js'
import { spawnWorker, TASK_QUEUE_ID } from './helpers/worker.js'

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((r) => srv.close(r))
  return port
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 50))
  }
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : NaN
}

describe('operating a worker', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('serves Prometheus metrics that move with the work, and `megalodon status` shows the running task', async () => {
    const port = await freePort()
    const w = await spawnWorker(fake, { metricsPort: port })
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    await until(async () => (await scrape().catch(() => '')).includes('megalodon_tasks_claimed_total'))
    const before = await scrape()
    assert.equal(metric(before, 'megalodon_tasks_claimed_total'), 0)

    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'echo x > a.txt; sleep 1.5']], maxRunTime: 30, artifacts: [{ type: 'file', path: 'a.txt', name: 'public/a.txt' }] }, metadata: { name: 'status probe', description: 'd', owner: 'o@example.com', source: 'https://example.com' } })
    await until(() => fake.status(taskId).runs[0]!.state === 'running')
    const status = spawnSync(process.execPath, [projectPath('dist', 'src', 'cli.js'), 'status', '--port', String(port)], { encoding: 'utf8' })
    assert.equal(status.status, 0, status.stderr)
    assert.match(status.stdout, new RegExp(`running ${taskId}/0 for \\d+s — status probe`))
    assert.equal(metric(await scrape(), 'megalodon_tasks_running'), 1)

    await fake.waitForResolution(taskId)
    await until(async () => metric(await scrape(), 'megalodon_tasks_resolved_total{state="completed",reason="completed"}') === 1)
    const after = await scrape()
    assert.equal(metric(after, 'megalodon_tasks_claimed_total'), 1)
    assert.equal(metric(after, 'megalodon_tasks_running'), 0)
    assert.equal(metric(after, 'megalodon_task_duration_seconds_count'), 1)
    assert.ok(metric(after, 'megalodon_artifact_upload_bytes_total') > 0)
    assert.ok(metric(after, 'megalodon_artifact_upload_duration_seconds_count') >= 2, 'the artifact and the backing log')
    assert.ok(metric(after, 'megalodon_claim_work_duration_seconds_count{claimed="yes"}') >= 1)
    w.child.kill('SIGINT')
    assert.equal(await w.exited, 71)
    const gone = spawnSync(process.execPath, [projectPath('dist', 'src', 'cli.js'), 'status', '--port', String(port)], { encoding: 'utf8' })
    assert.equal(gone.status, 84)
  })

  it('registers with worker-manager when configured, renews its credentials, and claims with them', async () => {
    fake.workerManager = { providerId: 'static', staticSecret: 'static-secret-for-tests-0123456789abcdefghij', credentialsTtlSecs: 3 }
    const taskId = slugid()
    // no clientId/accessToken: the credentials come from worker-manager
    const w = await spawnWorker(fake, { numberOfTasksToRun: 1, clientId: undefined, accessToken: undefined, workerManager: { providerId: 'static', workerIdentityProof: { staticSecret: 'static-secret-for-tests-0123456789abcdefghij' } } })
    await until(() => fake.requests.filter((r) => r.method === 'reregisterWorker' && r.status === 200).length >= 1)
    await fake.createTask(taskId, { payload: { command: [['true']], maxRunTime: 30 } })
    assert.equal(await w.exited, 0, w.stderr())
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
    const registered = fake.requests.filter((r) => r.method === 'registerWorker')
    assert.equal(registered.length, 1)
    const reregistered = fake.requests.filter((r) => r.method === 'reregisterWorker' && r.status === 200)
    const claimers = new Set(fake.requests.filter((r) => r.method === 'claimWork' && r.status === 200).map((r) => r.clientId))
    assert.ok(claimers.size >= 2, `claimed with registered and renewed credentials: ${[...claimers].join(', ')}`)
    for (const c of claimers) assert.match(c, new RegExp(`^worker/${TASK_QUEUE_ID}/test-worker-group/test-worker/\\d+$`))
    assert.ok(reregistered.every((r) => r.clientId.startsWith('worker/')))
  })
})
