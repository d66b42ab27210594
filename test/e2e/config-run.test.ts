// `megalodon run` and its config file end to end: the engine chosen when the file names none,
// and generic-worker's start-up warning for an insecure worker running tasks side by side.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import path from 'node:path'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { spawnWorker } from '../helpers/worker.js'

describe('megalodon run: engine and start-up checks', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('as root on Linux with no engine, runs the multiuser engine, which reads its chain of trust key at start (lead’s decision; chain_of_trust_feature.go:84-91: exit 82)', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) this.skip()
    const { exited } = await spawnWorker(fake, { engine: undefined, ed25519SigningKeyLocation: '/nonexistent/ed25519-key' })
    assert.equal(await exited, 82)
  })

  it('every engine requires ed25519SigningKeyLocation, insecure too (gwconfig/config.go:130, main.go:417)', async () => {
    const { exited, stderr } = await spawnWorker(fake, { engine: 'insecure', ed25519SigningKeyLocation: undefined })
    assert.equal(await exited, 73)
    assert.match(stderr(), /Config setting "ed25519SigningKeyLocation" has not been defined/)
  })

  it('reads the config file alone, as JSON whatever its name: TASKCLUSTER_* variables do not override it (gwconfig/config.go:282-296)', async () => {
    const saved = process.env.TASKCLUSTER_CLIENT_ID
    process.env.TASKCLUSTER_CLIENT_ID = 'stray/client'
    try {
      // the worker claims with the file's credentials (a stray client would be refused): it
      // runs to its idle timeout
      const { exited } = await spawnWorker(fake, { engine: 'insecure', idleTimeoutSecs: 1 })
      assert.equal(await exited, 68)
    } finally {
      if (saved === undefined) delete process.env.TASKCLUSTER_CLIENT_ID
      else process.env.TASKCLUSTER_CLIENT_ID = saved
    }
  })

  it('multiuser: the config file is made the worker user’s, mode 0600 (multiuser.go:45-48); one that cannot be exits 77 (usage_multiuser.go:6)', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) this.skip()
    const { exited, config } = await spawnWorker(fake, { engine: 'multiuser', idleTimeoutSecs: 1 }, { mode: 0o644 })
    assert.equal(await exited, 68)
    const file = path.join(path.dirname(String(config.tasksDir)), 'worker.json')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    // an immutable file cannot be secured (where the file system supports the attribute)
    const second = await spawnWorker(fake, { engine: 'multiuser', idleTimeoutSecs: 1 }, { mode: 0o644, beforeStart: (f) => execFileSync('chattr', ['+i', f], { stdio: 'ignore' }) }).catch(() => undefined)
    if (!second) return
    try {
      assert.equal(await second.exited, 77)
      assert.match(second.stderr(), /Not able to secure config file "/)
    } finally {
      execFileSync('chattr', ['-i', path.join(path.dirname(String(second.config.tasksDir)), 'worker.json')])
    }
  })

  it('warns that an insecure engine with capacity > 1 isolates nothing (insecure.go:31-38)', async () => {
    const { exited, stderr } = await spawnWorker(fake, { engine: 'insecure', capacity: 2, idleTimeoutSecs: 1 })
    assert.equal(await exited, 68)
    assert.match(stderr(), /insecure engine with capacity=2 provides NO credential or file system isolation between concurrent tasks/)
  })
})
