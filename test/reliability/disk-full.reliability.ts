// Reliability: a full disk. tasksDir is a small tmpfs: a task that fills it fails as its command
// failed (its log, cut short, is still uploaded), the worker goes on; a disk filled from outside
// pauses claiming (generic-worker's requiredDiskSpaceMegabytes) until space returns.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog, until } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'

describe('reliability: disk full', function () {
  this.timeout(120_000)
  let fake: FakeQueue
  let mountPoint: string
  before(function () {
    if (process.getuid?.() !== 0) this.skip()
    mountPoint = mkdtempSync(path.join(os.tmpdir(), 'megalodon-tmpfs-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint])
  })
  after(() => {
    if (mountPoint) execFileSync('umount', ['-l', mountPoint])
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('a task filling the disk fails; a disk full from outside pauses claiming until space returns', async () => {
    const tasksDir = path.join(mountPoint, 'tasks')
    const filler = slugid()
    await fake.createTask(filler, { payload: { command: [['sh', '-c', 'head -c 64000000 /dev/zero > fill.bin']], maxRunTime: 60 } })
    const worker = runWorker(fake, { tasksDir, requiredDiskSpaceMegabytes: 8, numberOfTasksToRun: 2 })
    const first = await fake.waitForResolution(filler)
    assert.equal(first.state, 'failed')
    // its log may have lost the lines that met the full disk, but whatever reached it is uploaded
    assert.ok(fake.artifacts(filler).has('public/logs/live_backing.log'), 'the backing log was uploaded')

    // now the disk is full of someone else's bytes: the worker must not claim
    const hog = path.join(mountPoint, 'hog.bin')
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
})
