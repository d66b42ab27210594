// Reliability: a Queue that fails at random (5xx, dropped connections, slow answers) on every
// endpoint. Every task must be resolved exactly once, with every artifact present, and no
// secret may appear in anything uploaded. The seed is printed; MEGALODON_SEED replays a run.
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { runWorker } from '../helpers/worker.js'
import { assertNoSecretsUploaded } from './secrets.js'

const seed = Number(process.env.MEGALODON_SEED ?? Date.now() % 1_000_000)

describe(`reliability: Queue faults (seed ${seed})`, function () {
  it('resolves 200 tasks exactly once, with their artifacts, through random Queue faults', async () => {
    process.stdout.write(`      seed ${seed} (replay with MEGALODON_SEED=${seed})\n`)
    const fake = await new FakeQueue({ claimWaitMs: 200, randomFaults: { seed, rate: 0.08 } }).start()
    try {
      const ids: string[] = []
      for (let i = 0; i < 200; i++) {
        const id = slugid()
        ids.push(id)
        await fake.createTask(id, {
          payload: { command: [['sh', '-c', `echo task ${i} > out.txt`]], maxRunTime: 60, artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }] },
        })
      }
      const { exitCode } = await runWorker(fake, { numberOfTasksToRun: 200, capacity: 4 })
      assert.equal(exitCode, 0, `seed ${seed}`)
      for (const [i, id] of ids.entries()) {
        const runs = fake.status(id).runs
        assert.equal(runs.length, 1, `seed ${seed}: task ${i} has one run`)
        assert.deepEqual([runs[0]!.state, runs[0]!.reasonResolved], ['completed', 'completed'], `seed ${seed}: task ${i}`)
        const reports = fake.requests.filter((r) => r.params[0] === id && r.method.startsWith('report') && r.status === 200)
        assert.equal(reports.length, 1, `seed ${seed}: task ${i} reported exactly once`)
        const a = fake.artifacts(id)
        assert.equal(a.get('public/out.txt')?.content?.toString(), `task ${i}\n`, `seed ${seed}: task ${i} artifact`)
        assert.match(a.get('public/logs/live_backing.log')?.content?.toString() ?? '', /=== Task Finished ===/, `seed ${seed}: task ${i} log`)
      }
      const injected = Object.values(fake.randomFaultCounts).reduce((a, b) => a + b, 0)
      assert.ok(injected > 50, `seed ${seed}: ${injected} faults injected`)
      process.stdout.write(`      faults injected: ${JSON.stringify(fake.randomFaultCounts)}\n`)
      assertNoSecretsUploaded(fake)
    } finally {
      await fake.stop()
    }
  })
})
