// Audit L2: a docker file artifact that is a symlink (or fifo, device) gave no artifact and no
// error. docker-worker compared the first tar entry's type with the artifact's as they are
// (workers/docker-worker/src/features/artifacts.js:94-117) and made an invalid-resource-on-worker
// error artifact saying `Expected artifact to be a "file" but was "symlink"`.
import assert from 'node:assert/strict'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { runTask } from './harness.js'

describe('security L2: a docker file artifact that is not a regular file is an error artifact', function () {
  this.timeout(120_000)
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    await dockerForTests()
  })
  it('a symlink gives invalid-resource-on-worker, as docker-worker', async () => {
    const o = await runTask({
      image: BUSYBOX_IMAGE,
      maxRunTime: 30,
      command: ['sh', '-c', 'mkdir -p /out && echo hi > /out/real && ln -s real /out/link-to-file'],
      artifacts: { 'public/link-to-file': { type: 'file', path: '/out/link-to-file' }, 'public/real': { type: 'file', path: '/out/real' } },
    })
    const a = o.artifact('public/link-to-file')
    assert.equal(a?.storageType, 'error', o.log)
    assert.equal(a?.reason, 'invalid-resource-on-worker')
    assert.match(o.log, /Expected artifact to be a "file" but was "symlink"/)
    assert.equal(o.artifact('public/real')?.storageType, 's3')
  })
})
