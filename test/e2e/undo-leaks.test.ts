// Whatever an executor's prepare made is undone whatever happens after it (the executor
// contract's undo stack). Each case is a failure after something was made that the executors
// once left behind: a task user and a cache
// instance still held after the task directory could not be handed over, and a docker cache
// instance held for the worker's lifetime after the task network could not be created.
import assert from 'node:assert/strict'
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import type { RawConfig } from '../../src/config/config.js'
import { NATIVE_CACHES } from '../../executors/native/mounts/caches.js'
import { BUSYBOX_IMAGE, dockerForTests, needsDocker } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog } from '../helpers/tasks.js'
import { runWorker, workerConfig } from '../helpers/worker.js'

/** Task users (task_…) whose home is under tasksDir. */
function taskUsersUnder(tasksDir: string): string[] {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f[0]?.startsWith('task_') && f[5]?.startsWith(tasksDir + path.sep))
    .map((f) => f[0]!)
}

describe('undo after a failed prepare (multiuser engine, root)', function () {
  this.timeout(60_000)
  let fake: FakeQueue
  before(function () {
    if (process.getuid?.() !== 0) this.skip()
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  async function multiuserConfig() {
    const config = await workerConfig(fake, { engine: 'multiuser' })
    chmodSync(path.dirname(String(config.tasksDir)), 0o755)
    return config
  }

  it('releases mounted caches and removes the task user when handing the task directory over fails', async () => {
    // A `chown` first on PATH that refuses `chown -R`: only the hand-over of the task
    // directory to the task user uses it, after the caches are mounted.
    const bin = await mkdtemp(path.join(os.tmpdir(), 'megalodon-fake-chown-'))
    writeFileSync(path.join(bin, 'chown'), '#!/bin/sh\n[ "$1" = -R ] && { echo "chown: refused by the test" >&2; exit 1; }\nexec /bin/chown "$@"\n', { mode: 0o755 })
    const config: RawConfig = { ...(await multiuserConfig()), numberOfTasksToRun: 1 }
    const id = slugid()
    await fake.createTask(id, { payload: { command: [['true']], maxRunTime: 60, mounts: [{ directory: 'cache', cacheName: 'handover' }] }, scopes: ['generic-worker:cache:handover'] })
    const savedPath = process.env.PATH
    process.env.PATH = `${bin}:${savedPath}`
    try {
      await runWorker(fake, config)
    } finally {
      process.env.PATH = savedPath
    }
    const run = fake.state.get(id).runs[0]!
    assert.equal(run.state, 'exception', backingLog(fake, id))
    assert.deepEqual(taskUsersUnder(String(config.tasksDir)), [])
    const index = JSON.parse(readFileSync(path.join(String(config.cachesDir), NATIVE_CACHES, 'index.json'), 'utf8')) as Array<{ name: string; inUse: boolean }>
    assert.deepEqual(
      index.map((i) => [i.name, i.inUse]),
      [['handover', false]],
    )
  })
})

describe('undo after a failed prepare (docker executor, real engine)', function () {
  this.timeout(120_000)
  let fake: FakeQueue
  before(needsDocker)
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('releases cache instances when the task network cannot be created', async () => {
    const cacheName = `net-fails-${slugid().slice(0, 6).toLowerCase()}`
    const scopes = [`docker-worker:cache:${cacheName}`]
    const first = slugid()
    const second = slugid()
    // a network of the name the worker gives the first task's network makes its creation fail
    const blocker = await (await dockerForTests()).createNetwork({ Name: `megalodon-${first}-0`, CheckDuplicate: true })
    try {
      await fake.createTask(first, { payload: { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, cache: { [cacheName]: '/c' }, features: { taskclusterProxy: true } }, scopes })
      await fake.createTask(second, { payload: { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, cache: { [cacheName]: '/c' } }, scopes })
      const config = await workerConfig(fake, { numberOfTasksToRun: 2, enableTaskclusterProxy: true })
      await runWorker(fake, config)
      const [a, b] = [fake.state.get(first).runs[0]!, fake.state.get(second).runs[0]!]
      assert.notEqual(a.state, 'completed', backingLog(fake, first))
      assert.equal(b.state, 'completed', backingLog(fake, second))
      assert.ok(Date.parse(a.started!) <= Date.parse(b.started!), 'the failing task ran first')
      // the second task got the instance the first one held: one instance, not two
      assert.equal(readdirSync(path.join(String(config.cachesDir), cacheName)).length, 1)
    } finally {
      await blocker.remove().catch(() => undefined)
    }
  })
})
