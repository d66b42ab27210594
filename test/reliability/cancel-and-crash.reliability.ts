// Reliability: tasks cancelled at random points leave nothing behind; a worker killed with
// SIGKILL mid-task leaves a claim that expires, and the next worker cleans up before claiming.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmod, readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { FakeQueue, seededRandom } from '../helpers/fake-queue/index.js'
import { until } from '../helpers/tasks.js'
import { runWorker, spawnWorker, workerConfig } from '../helpers/worker.js'
import { assertNoSecretsUploaded } from './secrets.js'

const seed = Number(process.env.MEGALODON_SEED ?? Date.now() % 1_000_000)

/** Processes whose command line carries this marker (our tasks' `sleep`s). */
function processesWith(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

describe(`reliability: cancellation and crashes (seed ${seed})`, function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  for (const engine of ['insecure', 'multiuser'] as const) {
  it(`a storm of cancellations at random points leaves no process, no task directory${engine === 'multiuser' ? ' and no task user' : ''} (${engine} engine)`, async function () {
    if (engine === 'multiuser' && process.getuid?.() !== 0) this.skip()
    const random = seededRandom(seed)
    fake.claimTimeoutSecs = 1 // reclaims every half second: cancellations are noticed fast
    const marker = `megalodon-storm-${seed}-${slugid()}`
    const ids: string[] = []
    for (let i = 0; i < 30; i++) {
      const id = slugid()
      ids.push(id)
      // background and foreground sleeps, artifacts to upload: cancels land in every stage
      await fake.createTask(id, {
        payload: {
          command: [['sh', '-c', `head -c 3000000 /dev/urandom > big.bin; (sh -c 'sleep 30' ${marker} &) ; sleep ${(random() * 2).toFixed(2)}; echo ${marker}`]],
          maxRunTime: 60,
          artifacts: [{ type: 'file', path: 'big.bin', name: 'public/big.bin' }],
        },
      })
    }
    // multiuser at capacity > 1 needs headlessTasks, as generic-worker (gwconfig validation)
    const config = await workerConfig(fake, { capacity: 4, idleTimeoutSecs: 3, engine, ...(engine === 'multiuser' ? { headlessTasks: true } : {}) })
    if (engine === 'multiuser') await chmod(path.dirname(String(config.tasksDir)), 0o755)
    const worker = runWorker(fake, config)
    let seen = 0
    const watch = setInterval(() => (seen = Math.max(seen, processesWith(marker).length)), 100)
    // The storm starts once a task runs (user creation on a loaded machine can take seconds):
    // cancels then land in every stage of the later tasks, whatever the machine's speed.
    await until(() => seen > 0, 60_000).catch(() => assert.fail('no task started its background process'))
    const cancels = ids.map(async (id) => {
      await new Promise((r) => setTimeout(r, random() * 4000))
      await fake.cancelTask(id)
    })
    await Promise.all(cancels)
    assert.equal((await worker).exitCode, 68, `seed ${seed}`)
    clearInterval(watch)
    assert.ok(seen > 0, 'the tasks did start background processes')
    for (const id of ids) {
      const run = fake.status(id).runs.at(-1)!
      const ok = run.state === 'completed' || (run.state === 'exception' && run.reasonResolved === 'canceled')
      assert.ok(ok, `seed ${seed}: ${id} ended ${run.state}/${run.reasonResolved}`)
    }
    await until(() => processesWith(marker).length === 0, 10_000).catch(() => assert.fail(`seed ${seed}: leftover processes ${processesWith(marker).join(' ')}`))
    assert.deepEqual(await readdir(String(config.tasksDir)), [], `seed ${seed}: task directories left`)
    if (engine === 'multiuser') {
      const passwd = await readFile('/etc/passwd', 'utf8')
      const left = passwd.split('\n').filter((l) => l.startsWith('task_') && l.includes(String(config.tasksDir)))
      assert.deepEqual(left, [], `seed ${seed}: task users left`)
    }
    assertNoSecretsUploaded(fake)
  })
  }

  it('a worker killed mid-task: the claim expires, a new worker kills the leftovers, cleans up, and runs the retry', async () => {
    fake.claimTimeoutSecs = 2
    const marker = `megalodon-killed-${slugid()}`
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', `if [ "$RUN_ID" = 0 ]; then sh -c 'sleep 60' ${marker}; fi; echo run $RUN_ID done`]], maxRunTime: 120 } })
    const first = await spawnWorker(fake, { cleanUpTaskDirs: true })
    await until(() => processesWith(marker).length > 0)
    first.child.kill('SIGKILL')
    await first.exited
    assert.ok(processesWith(marker).length > 0, 'the task’s process outlived its worker')
    const tasksDir = String(first.config.tasksDir) // the same directory as the killed worker
    await until(() => fake.status(taskId).runs.length === 2, 10_000)
    assert.deepEqual([fake.status(taskId).runs[0]!.state, fake.status(taskId).runs[0]!.reasonResolved], ['exception', 'claim-expired'])
    const { exitCode } = await runWorker(fake, { numberOfTasksToRun: 1, tasksDir })
    assert.equal(exitCode, 0)
    assert.deepEqual(processesWith(marker), [], 'the new worker killed what the old one left running')
    assert.equal(fake.status(taskId).runs[1]!.state, 'completed')
    assert.deepEqual(await readdir(tasksDir), [])
  })
})
