// Operating a worker: metrics that move, `megalodon status`, standalone worker-manager
// registration, and a generic-worker config file as worker-runner writes it.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { defaultExecutors } from '../../executors/index.js'
import { ClaimLoop } from '../../src/worker/claim-loop.js'
import { generateKeyPair } from '../../src/lib/ed25519.js'
import { buildConfig } from '../../src/config/config.js'
import { silentLogger } from '../../src/lib/logger.js'
import { cliEntry } from '../../src/lib/paths.js'
import { FakeQueue, WORKER } from '../helpers/fake-queue/index.js'
import { backingLog, until } from '../helpers/tasks.js'
import { spawnWorker, TASK_QUEUE_ID, TEST_WORKER_ID, workerConfig } from '../helpers/worker.js'

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((r) => srv.close(r))
  return port
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
    const status = spawnSync(process.execPath, [cliEntry, 'status', '--port', String(port)], { encoding: 'utf8' })
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
    const gone = spawnSync(process.execPath, [cliEntry, 'status', '--port', String(port)], { encoding: 'utf8' })
    assert.equal(gone.status, 84)
  })

  // HandleCrash (main.go:389-397) then ReportCrashToSentry (sentry.go:9-31): the exit waits for the event
  it('a crash is reported to Sentry with the worker’s facts as tags, through auth.sentryDSN, before exit 69', async () => {
    fake.workerManager = { providerId: 'static', staticSecret: 'static-secret-for-tests-0123456789abcdefghij', credentialsTtlSecs: 3 }
    const w = await spawnWorker(
      fake,
      { workerManager: { providerId: 'static', workerIdentityProof: { staticSecret: 'not-the-secret-0123456789abcdefghijklmnopq' } } },
      { beforeStart: () => fake.auth.addClient(WORKER.clientId, WORKER.accessToken, ['auth:sentry:generic-worker']) },
    )
    assert.equal(await w.exited, 69, w.stderr())
    assert.deepEqual(fake.requests.filter((r) => r.method === 'sentryDSN').map((r) => [r.clientId, r.status]), [[WORKER.clientId, 200]])
    assert.equal(fake.sentryEvents.length, 1)
    const packet = fake.sentryEvents[0]!.packet as { level: string; tags: Array<[string, string]>; exception: { value: string } }
    assert.equal(packet.level, 'error')
    assert.ok(packet.tags.some(([k, v]) => k === 'workerId' && v === TEST_WORKER_ID), JSON.stringify(packet.tags))
    assert.ok(packet.exception.value.length > 0)
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
    for (const c of claimers) assert.match(c, new RegExp(`^worker/${TASK_QUEUE_ID}/test-worker-group/${TEST_WORKER_ID}/\\d+$`))
    assert.ok(reregistered.every((r) => r.clientId.startsWith('worker/')))
  })
})

describe('robustness and config compatibility', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('a crash resolves every running task as internal-error with the error in its log, then exits 69', async () => {
    const ids = [slugid(), slugid()]
    for (const id of ids) await fake.createTask(id, { payload: { command: [['sleep', '60']], maxRunTime: 120 } })
    const config = buildConfig([await workerConfig(fake, { capacity: 2 })])
    const loop = new ClaimLoop({ config, executors: defaultExecutors(), logger: silentLogger(), queue: { rootUrl: fake.rootUrl } })
    const exit = loop.run()
    await until(() => ids.every((id) => fake.status(id).runs[0]!.state === 'running'))
    loop.crash(new Error('something broke'))
    assert.equal(await exit, 69)
    for (const id of ids) {
      const run = fake.status(id).runs[0]!
      assert.deepEqual([run.state, run.reasonResolved], ['exception', 'internal-error'])
      assert.match(backingLog(fake, id), /\[taskcluster:error\] worker internal error: something broke/)
    }
  })

  // generic-worker main.go:740-743, 1185-1190: a panic while running one task resolves that task
  // internal-error; the task goroutine recovers and the worker goes on claiming
  it('a bug while running one task resolves only that task internal-error; the worker goes on', async () => {
    const [broken, fine] = [slugid(), slugid()]
    await fake.createTask(broken, { payload: { command: [['true']], maxRunTime: 30, env: { BREAK: 'yes' } } })
    const config = buildConfig([await workerConfig(fake, { numberOfTasksToRun: 2 })])
    const executors = defaultExecutors().map((e) => ({
      ...e,
      run: (ctx: Parameters<typeof e.run>[0], run: Parameters<typeof e.run>[1]) => {
        if ((ctx.task.payload as { env?: Record<string, string> }).env?.BREAK) throw new TypeError('a bug in the executor')
        return e.run(ctx, run)
      },
    }))
    const loop = new ClaimLoop({ config, executors, logger: silentLogger(), queue: { rootUrl: fake.rootUrl } })
    const exit = loop.run()
    await until(() => fake.status(broken).runs[0]!.state !== 'running' && fake.status(broken).runs[0]!.state !== 'pending')
    await fake.createTask(fine, { payload: { command: [['echo', 'still claiming']], maxRunTime: 30 } })
    assert.equal(await exit, 0)
    const run = fake.status(broken).runs[0]!
    assert.deepEqual([run.state, run.reasonResolved], ['exception', 'internal-error'])
    assert.equal(fake.status(fine).runs[0]!.state, 'completed')
    assert.match(backingLog(fake, fine), /^still claiming$/m)
  })

  it('accepts a generic-worker config file with every documented key, as worker-runner writes it', async () => {
    const base = await workerConfig(fake, { idleTimeoutSecs: 1 })
    const keyFile = path.join(String(base.tasksDir), '..', 'ed25519_key')
    writeFileSync(keyFile, generateKeyPair().privateKeyBase64)
    const everyKey = {
      ...base,
      allowedHighMemoryDurationSecs: 5,
      availabilityZone: 'us-east-1a',
      cachesDir: String(base.cachesDir),
      capacity: 1,
      certificate: '',
      cleanUpTaskDirs: true,
      createObjectArtifacts: false,
      d2gConfig: { enableD2G: true, allowChainOfTrust: true, allowDisableSeccomp: true, allowGPUs: false, allowHostSharedMemory: true, allowInteractive: true, allowKVM: true, allowLoopbackAudio: true, allowLoopbackVideo: true, allowPrivileged: true, allowPtrace: true, allowTaskclusterProxy: true, gpus: 'all', logTranslation: true, containerEngine: 'docker' },
      disableNativePayloads: false,
      disableOOMProtection: false,
      disableReboots: true,
      downloadsDir: String(base.downloadsDir),
      ed25519SigningKeyLocation: keyFile,
      enableChainOfTrust: true,
      enableInteractive: false,
      enableLiveLog: true,
      enableLoopbackAudio: false,
      enableLoopbackVideo: false,
      enableMetadata: true,
      enableMounts: true,
      enableOSGroups: true,
      enableResourceMonitor: true,
      enableRunTaskAsCurrentUser: false,
      enableTaskclusterProxy: true,
      headlessTasks: false,
      idleTimeoutSecs: 1,
      instanceID: 'i-0123456789',
      instanceType: 'm5.xlarge',
      interactivePort: 53654,
      livelogExecutable: '/usr/local/bin/livelog',
      livelogExposePort: 0,
      livelogPortBase: 60098,
      loopbackAudioDeviceNumber: 16,
      loopbackVideoDeviceNumber: 0,
      maxMemoryUsagePercent: 90,
      maxTaskRunTime: 86400,
      minAvailableMemoryBytes: 524288000,
      numberOfTasksToRun: 0,
      privateIP: '10.0.0.5',
      provisionerId: 'test-provisioner',
      publicIP: '203.0.113.7',
      region: 'us-east-1',
      requiredDiskSpaceMegabytes: 10240,
      rootURL: fake.rootUrl,
      runAfterUserCreation: '/usr/local/bin/after-user',
      sentryProject: 'generic-worker',
      shutdownMachineOnIdle: false,
      shutdownMachineOnInternalError: false,
      taskclusterProxyExecutable: '/usr/local/bin/taskcluster-proxy',
      taskclusterProxyPort: 80,
      tasksDir: String(base.tasksDir),
      workerGroup: 'test-worker-group',
      workerId: TEST_WORKER_ID,
      workerLocation: '{"cloud":"aws","region":"us-east-1","availabilityZone":"us-east-1a"}',
      workerType: 'test-worker-type',
      workerTypeMetadata: { 'machine-setup': { script: 'https://example.com/setup.sh' }, 'worker-runner': { version: '90.0.0' } },
      wstAudience: 'taskcluster-net',
      wstServerURL: 'https://websocktunnel.example.com',
    }
    const file = path.join(path.dirname(String(base.tasksDir)), 'generic-worker.config')
    await writeFile(file, JSON.stringify(everyKey, null, 2), { mode: 0o600 })
    // spawn, not spawnSync: the fake Queue lives in this process and must keep answering.
    const child = spawn(process.execPath, [cliEntry, 'run', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'], cwd: path.dirname(file) })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const code = await new Promise((resolve) => child.once('exit', resolve))
    assert.equal(code, 68, stderr)
    assert.match(stderr, /generic-worker config keys accepted but not acted on/)
    assert.match(stderr, /"disableReboots"/)
    // every mount format generic-worker's schema names is decoded (mz and tar.mz too): a warning
    // at start names only formats whose command this host lacks
    assert.doesNotMatch(stderr, /mounts in these formats will fail on this worker: [^\n]*\bmz\b/)
  })
})
