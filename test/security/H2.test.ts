// Audit H2: on the multiuser engine, an interactive shell opened once artifact upload had begun
// swapped a checked artifact for a link to a root-only file, and the worker uploaded that file.
// Now no shell may start once artifact collection begins, and each file is copied by the task
// user (none of whose processes is left) before upload, as generic-worker copies it
// (artifact_feature.go:312 copyToTempFileAsTaskUser, during FindArtifacts, before any upload).
import assert from 'node:assert/strict'
import { chmodSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { ShellClient, socketUrlOf } from '../helpers/shell-client.js'
import { until } from '../helpers/tasks.js'
import { runWorker, workerConfig } from '../helpers/worker.js'
import { canaries, isRoot } from './harness.js'

describe('security H2: no interactive shell once artifacts are collected', function () {
  this.timeout(120_000)
  before(function () {
    if (!isRoot()) this.skip()
  })
  it('a shell opened during the upload is refused and the checked file is what is uploaded', async () => {
    const c = canaries()
    const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    try {
      const config = await workerConfig(fake, { engine: 'multiuser', enableInteractive: true, uploadConcurrency: 1 })
      chmodSync(path.dirname(String(config.tasksDir)), 0o755)
      const taskId = slugid()
      await fake.createTask(taskId, {
        scopes: ['generic-worker:interactive:test-provisioner/test-worker-type'],
        payload: {
          features: { interactive: true },
          maxRunTime: 120,
          command: [['sh', '-c', 'for i in 0 1 2; do head -c 100000 /dev/urandom > big$i.bin; done; echo harmless > small.txt']],
          artifacts: [
            { type: 'file', path: 'big0.bin', name: 'public/big0.bin', contentEncoding: 'identity' },
            { type: 'file', path: 'big1.bin', name: 'public/big1.bin', contentEncoding: 'identity' },
            { type: 'file', path: 'small.txt', name: 'public/small.txt' },
          ],
        },
      })
      // slow uploads stand in for large artifacts on a real network (the audit's window)
      fake.injectFault({ method: 's3Put', delayMs: 2000, times: 2 })
      const worker = runWorker(fake, { ...config, numberOfTasksToRun: 1 })
      await until(() => socketUrlOf(fake, taskId, 'private/generic-worker/shell.html') !== undefined, 60_000)
      const url = socketUrlOf(fake, taskId, 'private/generic-worker/shell.html')!
      await until(() => fake.artifacts(taskId).has('public/big0.bin'), 60_000) // the upload phase began
      // the UI's client: its socket opens, and a shell that may not start says so and closes
      const shell = new ShellClient(url)
      await shell.ready.catch(() => undefined)
      shell.type(`rm -f small.txt; ln -s ${c.secret} small.txt; echo SWAP""PED\n`)
      await worker
      await shell.closed
      const opened = shell.output.includes('SWAPPED') ? 'opened' : 'refused'
      assert.match(shell.output, /^Error while spawning command the task is over/)
      const small = fake.artifacts(taskId).get('public/small.txt')
      const text = small?.content ? (small.content[0] === 0x1f ? gunzipSync(small.content) : small.content).toString() : ''
      assert.equal(opened, 'refused')
      assert.equal(text, 'harmless\n')
      assert.doesNotMatch(text, new RegExp(c.secretText))
    } finally {
      await fake.stop()
    }
  })
})
