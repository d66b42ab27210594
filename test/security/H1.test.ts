// Audit H1: on the multiuser engine an artifact symlinked to /proc/self/environ published the
// worker's own environment (its access token when given by env): the task user's `test -r`
// passed, then the worker read the path as itself. generic-worker copies each file as the task
// user with an empty environment and uploads the copy (artifacts_multiuser.go:13-25,
// artifact_feature.go:312), so /proc/self is the copier and the file is what the task could read.
import assert from 'node:assert/strict'
import { gunzipSync } from 'node:zlib'
import { canaries, isRoot, runTasks } from './harness.js'

describe('security H1: multiuser artifacts are read with the task user’s rights', function () {
  this.timeout(90_000)
  before(function () {
    if (!isRoot()) this.skip()
  })
  it('a link to /proc/self/environ or to a root-only file publishes nothing of the worker', async () => {
    const c = canaries()
    const workerSecret = 's3cr3t-in-worker-env-H1'
    const [o] = await runTasks(
      [
        {
          payload: {
            maxRunTime: 30,
            command: [['sh', '-c', `ln -s /proc/self/environ environ.txt; ln -s ${c.secret} secret.txt; echo harmless > plain.txt`]],
            artifacts: [
              { type: 'file', path: 'environ.txt', name: 'public/environ.txt' },
              { type: 'file', path: 'secret.txt', name: 'public/secret.txt' },
              { type: 'file', path: 'plain.txt', name: 'public/plain.txt' },
            ],
          },
        },
      ],
      { engine: 'multiuser' },
      { AUDIT_WORKER_ENV_SECRET: workerSecret },
      { process: true },
    )
    const body = (name: string): string => {
      const a = o!.artifact(name)
      if (!a?.content) return ''
      return (a.content[0] === 0x1f && a.content[1] === 0x8b ? gunzipSync(a.content) : a.content).toString('latin1')
    }
    assert.doesNotMatch(body('public/environ.txt'), new RegExp(workerSecret))
    assert.doesNotMatch(body('public/environ.txt'), /TASKCLUSTER_ACCESS_TOKEN/)
    assert.doesNotMatch(body('public/secret.txt'), new RegExp(c.secretText))
    assert.equal(o!.artifact('public/secret.txt')?.storageType, 'error')
    assert.equal(body('public/plain.txt'), 'harmless\n')
  })
})
