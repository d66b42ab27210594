// The live log: readable while the task runs, follows until the log closes, ends with exactly
// the backing log's bytes; slow readers never hold the task.
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { slugid } from 'taskcluster-client'
import { BUSYBOX_IMAGE, needsDocker } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog, until } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'

/** A reader of a live log URL: collects bytes; can be paused (it then stops reading its socket). */
function follow(url: string): { chunks: Buffer[]; text: () => string; done: Promise<void>; pause(): void; resume(): void; status: Promise<number> } {
  const chunks: Buffer[] = []
  let res: http.IncomingMessage | undefined
  let setStatus!: (n: number) => void
  const status = new Promise<number>((r) => (setStatus = r))
  const done = new Promise<void>((resolve, reject) => {
    http
      .get(url, (r) => {
        res = r
        setStatus(r.statusCode ?? 0)
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', resolve)
        r.on('error', reject)
      })
      .on('error', reject)
  })
  return { chunks, text: () => Buffer.concat(chunks).toString('utf8'), done, status, pause: () => res?.pause(), resume: () => res?.resume() }
}

describe('live log', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('with backingLog false, is served and its reference left in place: no backing log, no link (generic-worker livelog_feature.go:33-35,135)', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['echo', 'only live']], maxRunTime: 30, features: { backingLog: false } } })
    const worker = runWorker(fake, { idleTimeoutSecs: 2 })
    await fake.waitForResolution(taskId)
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
    const artifacts = fake.artifacts(taskId)
    assert.deepEqual([...artifacts.keys()], ['public/logs/live.log'])
    assert.equal(artifacts.get('public/logs/live.log')!.storageType, 'reference')
    assert.equal((await worker).exitCode, 68)
  })

  it('is served on livelogExposePort, the port its URL names, as generic-worker’s exposer listens there (expose/local.go:40-47,56-63)', async () => {
    const free = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo
        probe.close(() => resolve(port))
      })
    })
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'echo exposed; sleep 1']], maxRunTime: 30 } })
    const worker = runWorker(fake, { idleTimeoutSecs: 2, livelogExposePort: free })
    await until(() => fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')?.storageType === 'reference')
    const url = fake.artifacts(taskId).get('public/logs/live.log')!.url!
    assert.equal(new URL(url).port, String(free))
    const reader = follow(url)
    await reader.done
    assert.match(reader.text(), /^exposed$/m)
    await worker
  })

  it('its reference expires maxRunTime plus 15 minutes after it is made (generic-worker livelog_feature.go:186-187)', async () => {
    const taskId = slugid()
    const expires = new Date(Date.now() + 2 * 86400_000).toISOString()
    await fake.createTask(taskId, { expires, payload: { command: [['sh', '-c', 'sleep 1']], maxRunTime: 30 } })
    const before = Date.now()
    const worker = runWorker(fake, { idleTimeoutSecs: 2 })
    await until(() => fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')?.storageType === 'reference')
    const after = Date.now()
    const referenceExpires = Date.parse(fake.artifacts(taskId).get('public/logs/live.log')!.expires)
    assert.ok(referenceExpires >= before + 930_000 - 1000 && referenceExpires <= after + 930_000, `${new Date(referenceExpires).toISOString()} is 930 s after the reference was made`)
    await worker
  })

  it('is readable while the task runs, and its final bytes equal the backing log', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'echo first; sleep 1; echo second']], maxRunTime: 30 } })
    // idle timeout, not a task count: the worker (and its live log server) stays up after the task
    const worker = runWorker(fake, { idleTimeoutSecs: 2 })
    await until(() => fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')?.storageType === 'reference')
    const ref = fake.artifacts(taskId).get('public/logs/live.log')!
    assert.match(ref.url!, /^http:\/\/127\.0\.0\.1:\d+\/log\/[A-Za-z0-9_-]{32}$/)
    assert.equal(ref.contentType, 'text/plain; charset=utf-8')
    const readers = Array.from({ length: 10 }, () => follow(ref.url!))
    assert.equal(await readers[0]!.status, 200)
    await until(() => readers.every((r) => /^first$/m.test(r.text())))
    assert.equal(fake.status(taskId).runs[0]!.state, 'running', 'output seen while the task still runs')
    await Promise.all(readers.map((r) => r.done))
    await fake.waitForResolution(taskId)
    const backing = backingLog(fake, taskId)
    assert.match(backing, /=== Task Finished ===/)
    for (const r of readers) assert.equal(r.text(), backing)
    assert.equal(fake.artifacts(taskId).get('public/logs/live.log')!.storageType, 'link', 'replaced by a link at the end')
    const late = follow(ref.url!)
    assert.equal(await late.status, 401, 'the token is gone once the task is over')
    await late.done
    assert.equal((await worker).exitCode, 68)
  })

  it('a reader that stops reading never holds the task, and gets every byte once it reads again', async () => {
    const taskId = slugid()
    // ~8 MB of output, far more than a socket buffers
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'sleep 0.5; head -c 8000000 /dev/zero | tr "\\0" "x" | fold -w 4000']], maxRunTime: 60 } })
    const worker = runWorker(fake, { idleTimeoutSecs: 2 })
    await until(() => fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')?.storageType === 'reference')
    const slow = follow(fake.artifacts(taskId).get('public/logs/live.log')!.url!)
    await slow.status
    slow.pause()
    // the task finishes and resolves although the reader reads nothing
    assert.deepEqual(await fake.waitForResolution(taskId), fake.state.get(taskId).runs[0])
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
    slow.resume()
    await slow.done
    assert.equal(slow.text(), backingLog(fake, taskId))
    await worker
  })

  it('is readable while a mount still downloads: it starts before the mounts (generic-worker main.go:82-94)', async () => {
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    let asked = false
    const server = http.createServer((_req, res) => {
      asked = true
      void released.then(() => res.end('mounted\n'))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/slow.txt`
      const taskId = slugid()
      await fake.createTask(taskId, { payload: { command: [['cat', 'm.txt']], maxRunTime: 60, mounts: [{ file: 'm.txt', content: { url } }] } })
      const worker = runWorker(fake, { idleTimeoutSecs: 2 })
      await until(() => asked && fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')?.storageType === 'reference')
      const reader = follow(fake.artifacts(taskId).get('public/logs/live.log')!.url!)
      await until(() => reader.text().includes(`[mounts] Downloading url ${url}`))
      assert.doesNotMatch(reader.text(), /Executing command 0/, 'read while the mount was still downloading')
      release()
      await reader.done
      await fake.waitForResolution(taskId)
      assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
      assert.match(reader.text(), /^mounted$/m)
      await worker
    } finally {
      release()
      server.close()
    }
  })

  it('with enableLiveLog false, refuses every task that does not turn it off, and runs one that does (livelog_feature.go:33-35, main.go:1196-1214)', async () => {
    const refused = slugid()
    const off = slugid()
    await fake.createTask(refused, { payload: { command: [['true']], maxRunTime: 30 } })
    await fake.createTask(off, { payload: { command: [['true']], maxRunTime: 30, features: { liveLog: false } } })
    await runWorker(fake, { numberOfTasksToRun: 2, enableLiveLog: false })
    assert.deepEqual([fake.status(refused).runs[0]!.state, fake.status(refused).runs[0]!.reasonResolved], ['exception', 'malformed-payload'])
    assert.equal(fake.status(off).runs[0]!.state, 'completed')
    const created = fake.requests.filter((r) => r.method === 'createArtifact' && r.params[0] === off).map((r) => decodeURIComponent(r.params[2]!))
    assert.deepEqual(created, ['public/logs/live_backing.log'], 'no reference and no link')
  })

  describe('docker tasks (real engine)', function () {
    before(needsDocker)

    it('is made before the payload is checked: a malformed payload has it at its `log` name, then the link to the backing log (src/task.js:764-779,797-808; logs_location.js:7-15)', async () => {
      const taskId = slugid()
      await fake.createTask(taskId, { payload: { image: BUSYBOX_IMAGE, command: 'not a list', maxRunTime: 30, log: 'public/logs/custom.log' } })
      const worker = runWorker(fake, { idleTimeoutSecs: 2 })
      await fake.waitForResolution(taskId)
      assert.deepEqual([fake.status(taskId).runs[0]!.state, fake.status(taskId).runs[0]!.reasonResolved], ['exception', 'malformed-payload'])
      const created = fake.requests.filter((r) => r.method === 'createArtifact' && r.params[0] === taskId).map((r) => decodeURIComponent(r.params[2]!))
      assert.deepEqual(created, ['public/logs/custom.log', 'public/logs/custom_backing.log', 'public/logs/custom.log'], 'reference, backing log, link')
      assert.equal(fake.artifacts(taskId).get('public/logs/custom.log')!.storageType, 'link')
      assert.match(backingLog(fake, taskId, 0, 'public/logs/custom_backing.log'), /schema/i)
      await worker
    })

    it('is made before the image is fetched (src/task.js:764-779 before :815)', async () => {
      const taskId = slugid()
      const producer = 'AAAAAAAAQAAAAAAAAAAAAA'
      await fake.createTask(taskId, { payload: { image: { type: 'task-image', taskId: producer, path: 'public/image.tar' }, command: ['true'], maxRunTime: 30 } })
      const worker = runWorker(fake, { idleTimeoutSecs: 2 })
      await fake.waitForResolution(taskId)
      const reference = fake.requests.findIndex((r) => r.method === 'createArtifact' && r.params[0] === taskId && decodeURIComponent(r.params[2]!) === 'public/logs/live.log')
      const fetch = fake.requests.findIndex((r) => r.params[0] === producer)
      assert.ok(reference >= 0 && fetch >= 0 && reference < fetch, `reference at ${reference}, image fetch at ${fetch}`)
      await worker
    })

    it('its reference expires when the task does (docker-worker src/features/local_live_log.js:147-148)', async () => {
      const taskId = slugid()
      const expires = new Date(Date.now() + 2 * 86400_000).toISOString()
      await fake.createTask(taskId, { expires, payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'sleep 1'], maxRunTime: 30 } })
      const worker = runWorker(fake, { idleTimeoutSecs: 2 })
      await until(() => fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')?.storageType === 'reference')
      assert.equal(fake.artifacts(taskId).get('public/logs/live.log')!.expires, expires)
      await worker
    })

    it('is readable while the container runs, at the payload’s log name, and ends with the backing log’s bytes', async () => {
      const taskId = slugid()
      await fake.createTask(taskId, { payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo first; sleep 1; echo second'], maxRunTime: 30, log: 'public/logs/container.log' } })
      const worker = runWorker(fake, { idleTimeoutSecs: 2 })
      await until(() => fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/container.log')?.storageType === 'reference')
      const reader = follow(fake.artifacts(taskId).get('public/logs/container.log')!.url!)
      await until(() => /^first\r?$/m.test(reader.text()))
      assert.equal(fake.status(taskId).runs[0]!.state, 'running', 'output seen while the container still runs')
      await reader.done
      await fake.waitForResolution(taskId)
      const backing = backingLog(fake, taskId, 0, 'public/logs/container_backing.log')
      assert.match(backing, /Successful task run with exit code: 0/)
      assert.equal(reader.text(), backing)
      assert.equal((await worker).exitCode, 68)
    })
  })
})
