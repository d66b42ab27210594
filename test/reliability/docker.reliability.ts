// Reliability with a real Docker engine: the engine killed and restarted under a running task
// (the task resolves exception/resource-unavailable with a clear line, the worker goes on and
// removes what the dead engine left), and a storm of cancellations of docker tasks at random
// points (no container and no task network left).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { slugid } from 'taskcluster-client'
import type Docker from 'dockerode'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '../../src/lib/ed25519.js'
import { projectPath } from '../../src/lib/paths.js'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { FakeQueue, seededRandom } from '../helpers/fake-queue/index.js'
import { backingLog, until } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'
import { assertNoSecretsUploaded } from './secrets.js'

const seed = Number(process.env.MEGALODON_SEED ?? Date.now() % 1_000_000)

async function taskContainers(docker: Docker, taskId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`megalodon.task=${taskId}-0`] }) })
}

describe(`reliability: docker engine (seed ${seed})`, function () {
  this.timeout(300_000)
  let fake: FakeQueue
  let docker: Docker
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    docker = await dockerForTests()
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('the engine killed and restarted mid-task: exception with a clear line, and the worker goes on', async () => {
    const first = slugid()
    await fake.createTask(first, { payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo started; sleep 120'], maxRunTime: 300 } })
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-key-')), 'ed25519.key')
    const key = generateKeyPair()
    writeFileSync(keyFile, key.privateKeyBase64)
    const worker = runWorker(fake, { numberOfTasksToRun: 2, ed25519SigningKeyLocation: keyFile })
    await until(async () => (await taskContainers(docker, first)).some((c) => c.State === 'running'), 60_000)
    // a crash, not a polite stop: SIGKILL (its containerd goes with it), then start it again
    const pid = execFileSync('pidof', ['dockerd'], { encoding: 'utf8' }).trim()
    execFileSync('kill', ['-KILL', pid])
    try {
      const run = await fake.waitForResolution(first, 0, 60_000)
      assert.deepEqual([run.state, run.reasonResolved], ['exception', 'resource-unavailable'], backingLog(fake, first))
      assert.match(backingLog(fake, first), /\[taskcluster:error\] The Docker engine stopped answering during the task/)
    } finally {
      execFileSync('bash', [projectPath('test/helpers/docker-up.sh')], { stdio: 'ignore' })
    }

    const second = slugid()
    await fake.createTask(second, { payload: { image: BUSYBOX_IMAGE, command: ['echo', 'after the restart'], maxRunTime: 60, features: { chainOfTrust: true } } })
    assert.equal((await worker).exitCode, 0, 'the worker ran its second task and stopped as asked')
    const after = fake.state.get(second).runs[0]!
    assert.equal(after.state, 'completed', backingLog(fake, second))
    assert.match(backingLog(fake, second), /after the restart/)
    assert.deepEqual(await taskContainers(docker, first), [], 'the first task’s container was removed once the engine was back')
    assert.ok(fake.artifacts(second).has('public/chain-of-trust.json.sig'))
    const seed = Buffer.from(key.privateKeyBase64, 'base64').subarray(0, 32)
    assertNoSecretsUploaded(fake, [key.privateKeyBase64, seed.toString('hex'), seed.toString('base64'), seed.toString('latin1')])
  })

  it('a storm of cancellations of docker tasks leaves no container and no network', async () => {
    const random = seededRandom(seed)
    const ids = Array.from({ length: 8 }, () => slugid())
    for (const id of ids) {
      await fake.createTask(id, {
        payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'sleep 30'], maxRunTime: 120, features: { taskclusterProxy: random() < 0.5 } },
        scopes: [],
      })
    }
    // cancelled pending tasks are never claimed: the worker stops once idle
    const worker = runWorker(fake, { idleTimeoutSecs: 5, capacity: 4 })
    for (const id of ids) {
      // cancel while pending, just after the claim (prepare), or while the container runs
      const when = random()
      if (when < 0.25) {
        await fake.cancelTask(id)
        continue
      }
      await until(() => fake.status(id).runs[0]!.state === 'running', 60_000)
      if (when > 0.6) await until(async () => (await taskContainers(docker, id)).length > 0, 60_000)
      await fake.cancelTask(id)
    }
    assert.equal((await worker).exitCode, 68)
    for (const id of ids) assert.deepEqual(await taskContainers(docker, id), [], `no container left for ${id}`)
    const networks = await docker.listNetworks({ filters: JSON.stringify({ label: ids.map((id) => `megalodon.task=${id}-0`) }) })
    assert.deepEqual(networks.filter((n) => ids.some((id) => n.Name.includes(id))), [], 'no task network left')
    for (const id of ids) assert.equal(fake.status(id).runs[0]!.state, 'exception')
  })
})
