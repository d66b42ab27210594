// L4 (security-audit.md): on a full disk the task log was cut short without a word and a task
// whose command exited 0 resolved `completed`. Upstream's commands write to the log file
// themselves (generic-worker process/process.go:175-178, one file descriptor for stdout and
// stderr) and meet ENOSPC; megalodon's write to a pipe, so the worker must not report such a
// run as completed: it fails, and what reached the log is still uploaded.
import assert from 'node:assert/strict'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog } from '../helpers/tasks.js'
import { useTmpfs } from '../helpers/tmpfs.js'
import { runWorker } from '../helpers/worker.js'

describe('security L4: a task log the disk could not take', function () {
  this.timeout(120_000)
  let fake: FakeQueue
  const mountPoint = useTmpfs(16, 'megalodon-l4-')
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('fails a run whose command exited 0 after the disk filled under its log, and uploads what the log holds', async () => {
    const taskId = slugid()
    // The command prints a line (on disk after the log's 50 ms flush), fills the disk (ignoring
    // its own write error), prints lines the log
    // cannot take, frees nothing, and exits 0.
    const script = 'echo before-the-disk-filled; sleep 1; head -c 64000000 /dev/zero > fill.bin 2>/dev/null; seq 1 200000; exit 0'
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', script]], maxRunTime: 60 } })
    const worker = runWorker(fake, { tasksDir: path.join(mountPoint(), 'tasks'), requiredDiskSpaceMegabytes: 1, numberOfTasksToRun: 1 })
    const resolution = await fake.waitForResolution(taskId)
    assert.equal(resolution.state, 'failed')
    assert.match(backingLog(fake, taskId), /before-the-disk-filled/)
    assert.equal((await worker).exitCode, 0)
  })
})
