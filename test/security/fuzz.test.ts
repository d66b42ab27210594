// The rule behind H7, H8 and M1 (security-audit.md): no connection can crash the worker. A
// small seeded fuzz of every port the worker listens on — live log, interactive, the task's
// taskcluster-proxy, metrics/status — with malformed request lines, truncated bodies, oversized
// headers and random websocket frames; afterwards the worker still runs its task and claims,
// runs and resolves another one.
import assert from 'node:assert/strict'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { socketUrlOf } from '../helpers/shell-client.js'
import { madeInTaskDir, until } from '../helpers/tasks.js'
import { releaseTasks, runTask, sendRaw, startTask, startWorker, WAIT_FOR_RELEASE, type WorkerProcess } from './worker-process.js'

const POOL_SCOPE = 'generic-worker:interactive:test-provisioner/test-worker-type'

/** mulberry32: a fixed seed makes a failing case reproducible. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomBytes(rand: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)))
}

const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'

/** The inputs sent to every port; `path` is a path the port serves (a live-log or shell token, a proxy API path). */
function cases(rand: () => number, path: string): Array<Buffer | string> {
  return [
    'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n',
    `GET http://[ HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`,
    'GET %%% HTTP/1.1\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    '\0\0\0\0\r\n\r\n',
    `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\ntruncated`,
    `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbad chunk`,
    `PUT /credentials HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{"cl`,
    `POST /bewit HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n\xff\xfe\x00`,
    `GET ${path} HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`,
    ...Array.from({ length: 6 }, () => Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`), randomBytes(rand, 1 + Math.floor(rand() * 64))])),
    ...Array.from({ length: 6 }, () => randomBytes(rand, 1 + Math.floor(rand() * 200))),
  ]
}

describe('fuzz: every port of the worker', function () {
  let fake: FakeQueue
  let worker: WorkerProcess | undefined
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => {
    await worker?.stop()
    await fake.stop()
  })

  it('survives malformed lines, truncated bodies, oversized headers and random frames, then claims and resolves a task', async () => {
    worker = await startWorker(fake)
    const taskId = await startTask(fake, { command: [WAIT_FOR_RELEASE], maxRunTime: 120, features: { interactive: true, taskclusterProxy: true } }, { scopes: [POOL_SCOPE, 'queue:get-task:*'] })
    await until(() => madeInTaskDir(worker!.tasksDir) && socketUrlOf(fake, taskId, 'private/generic-worker/shell.html') !== undefined && fake.artifacts(taskId).get('public/logs/live.log')?.url !== undefined)
    const shellPath = new URL(socketUrlOf(fake, taskId, 'private/generic-worker/shell.html')!).pathname
    const logPath = new URL(fake.artifacts(taskId).get('public/logs/live.log')!.url!).pathname
    const targets: Array<[string, number, string]> = [
      ['live log', worker.ports.liveLog, logPath],
      ['interactive', worker.ports.interactive, shellPath],
      ['proxy', worker.ports.proxy, `/api/queue/v1/task/${taskId}`],
      ['metrics', worker.ports.metrics, '/status'],
    ]
    const rand = prng(15)
    for (const [name, port, path] of targets) {
      for (const [i, input] of cases(rand, path).entries()) {
        // half the connections hang up right after writing, half wait for the answer
        await sendRaw(port, input, { endAfterWrite: i % 2 === 1, waitMs: 300 })
        assert.ok(worker.alive(), `${name} case ${i}: ${worker.stderr()}`)
      }
      // every port still serves a well-formed client
      const probe = await sendRaw(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${name === 'interactive' ? UPGRADE : ''}\r\n`, { waitMs: 300 })
      assert.match(probe, /^HTTP\/1\.1 (200|101)/, `${name} still answers`)
    }
    await releaseTasks(worker.tasksDir)
    const run = await fake.waitForResolution(taskId)
    assert.deepEqual([run.state, run.reasonResolved], ['completed', 'completed'], worker.stderr())
    const next = await runTask(fake, { command: [['sh', '-c', 'echo after the fuzz']], maxRunTime: 30 })
    assert.deepEqual([next.state, next.reason], ['completed', 'completed'], worker.stderr())
    assert.ok(worker.alive(), worker.stderr())
  })
})
