// Reliability: a full disk. tasksDir is a small tmpfs: a task that fills it fails as its command
// failed (its log, cut short, is still uploaded), the worker goes on; a disk filled from outside
// pauses claiming (generic-worker's requiredDiskSpaceMegabytes) until space returns.
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog, until } from '../helpers/tasks.js'
import { useTmpfs } from '../helpers/tmpfs.js'
import { runWorker } from '../helpers/worker.js'

describe('reliability: disk full', function () {
  this.timeout(120_000)
  let fake: FakeQueue
  const mountPoint = useTmpfs(24, 'megalodon-tmpfs-')
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('a task filling the disk fails; a disk full from outside pauses claiming until space returns', async () => {
    const tasksDir = path.join(mountPoint(), 'tasks')
    const filler = slugid()
    await fake.createTask(filler, { payload: { command: [['sh', '-c', 'head -c 64000000 /dev/zero > fill.bin']], maxRunTime: 60 } })
    const worker = runWorker(fake, { tasksDir, requiredDiskSpaceMegabytes: 8, numberOfTasksToRun: 2 })
    const first = await fake.waitForResolution(filler)
    assert.equal(first.state, 'failed')
    // its log may have lost the lines that met the full disk, but whatever reached it is uploaded
    assert.ok(fake.artifacts(filler).has('public/logs/live_backing.log'), 'the backing log was uploaded')

    // now the disk is full of someone else's bytes: the worker must not claim
    const hog = path.join(mountPoint(), 'hog.bin')
    await until(() => {
      try {
        writeFileSync(hog, Buffer.alloc(20 * 1024 * 1024))
        return true
      } catch {
        return false // the first task's directory is still being removed
      }
    })
    // a claimWork already in flight when the disk filled (the fake long-polls 200 ms) may still
    // take a task: let it come back empty first
    await new Promise((r) => setTimeout(r, 1000))
    const next = slugid()
    await fake.createTask(next, { payload: { command: [['echo', 'recovered']], maxRunTime: 60 } })
    await new Promise((r) => setTimeout(r, 2000))
    assert.equal(fake.status(next).runs[0]!.state, 'pending', 'not claimed while the disk is full')
    rmSync(hog)
    assert.equal((await worker).exitCode, 0)
    assert.equal(fake.status(next).runs[0]!.state, 'completed')
    assert.match(backingLog(fake, next), /^recovered$/m)
  })

  it('before claiming, evicts cached downloads (least recently used first) to keep requiredDiskSpaceMegabytes free, keeping caches when that is enough', async () => {
    const base = path.join(mountPoint(), `gc-${slugid()}`)
    const big = Buffer.alloc(9 * 1024 * 1024, 7)
    let served = 0
    const server = http.createServer((_req, res) => {
      served++
      res.writeHead(200).end(big)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.bin`
    try {
      const dirs = { tasksDir: path.join(base, 'tasks'), downloadsDir: path.join(base, 'downloads'), cachesDir: path.join(base, 'caches') }
      const scope = 'generic-worker:cache:keep'
      const payload = (cmd: string) => ({ command: [['sh', '-c', cmd]], maxRunTime: 60, mounts: [{ file: 'big.bin', content: { url } }, { directory: 'keep', cacheName: 'keep' }] })
      const first = slugid()
      await fake.createTask(first, { payload: payload('head -c 4000000 /dev/zero > keep/state'), scopes: [scope] })
      // the 9 MiB download and the 4 MB cache stay: 24 MiB - 13 leaves less than 12 free
      assert.equal((await runWorker(fake, { ...dirs, requiredDiskSpaceMegabytes: 12, numberOfTasksToRun: 1 })).exitCode, 0)
      assert.equal(fake.state.get(first).runs[0]!.state, 'completed', backingLog(fake, first))
      const second = slugid()
      await fake.createTask(second, { payload: payload('ls -l keep/state'), scopes: [scope] })
      assert.equal((await runWorker(fake, { ...dirs, requiredDiskSpaceMegabytes: 12, numberOfTasksToRun: 1 })).exitCode, 0)
      const log = backingLog(fake, second)
      assert.equal(fake.state.get(second).runs[0]!.state, 'completed', log)
      assert.match(log, / 4000000 .*keep\/state/, 'the cache survived')
      assert.equal(served, 2, 'the download was evicted before the second claim, so it was fetched again')
    } finally {
      server.close()
    }
  })
})
