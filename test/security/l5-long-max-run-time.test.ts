// L5 (security-audit.md): a maxRunTime above 2^31-1 ms (allowed once maxTaskRunTime is raised)
// overflowed setTimeout, which then fired at once: the task was aborted after 5 ms as "max run
// time exceeded". The limit is now waited out in steps setTimeout can take.
import assert from 'node:assert/strict'
import { setLongTimeout } from '../../src/lib/long-timeout.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

describe('L5: maxRunTime beyond setTimeout’s range', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('does not abort the task at once (the audit’s 2,200,000 s with maxTaskRunTime 3,000,000)', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'sleep 1; echo survived']], maxRunTime: 2_200_000 }, { config: { maxTaskRunTime: 3_000_000 } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.match(o.log, /^survived$/m)
    assert.doesNotMatch(o.log, /max run time exceeded/)
  })

  it('a long timeout fires once, after its steps, and not when cleared', async () => {
    const fired: string[] = []
    await new Promise<void>((resolve) => setLongTimeout(() => (fired.push('long'), resolve()), 60, 7))
    const cleared = setLongTimeout(() => fired.push('cleared'), 30, 7)
    cleared.clear()
    await new Promise<void>((resolve) => setLongTimeout(resolve, 60, 7))
    assert.deepEqual(fired, ['long'])
  })
})
