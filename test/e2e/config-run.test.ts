// `megalodon run` and its config file end to end: the engine chosen when the file names none,
// and generic-worker's start-up warning for an insecure worker running tasks side by side.
import assert from 'node:assert/strict'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { spawnWorker } from '../helpers/worker.js'

describe('megalodon run: engine and start-up checks', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('as root on Linux with no engine, runs the multiuser engine, which needs its chain of trust key (lead’s decision; gwconfig/config.go:130)', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) this.skip()
    const { exited, stderr } = await spawnWorker(fake, { engine: undefined })
    assert.equal(await exited, 73)
    assert.match(stderr(), /Config setting "ed25519SigningKeyLocation" has not been defined/)
  })

  it('warns that an insecure engine with capacity > 1 isolates nothing (insecure.go:31-38)', async () => {
    const { exited, stderr } = await spawnWorker(fake, { engine: 'insecure', capacity: 2, idleTimeoutSecs: 1 })
    assert.equal(await exited, 68)
    assert.match(stderr(), /insecure engine with capacity=2 provides NO credential or file system isolation between concurrent tasks/)
  })
})
