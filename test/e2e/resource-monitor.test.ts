// generic-worker's resource monitor: memory lines in each command's result block, off when the
// payload says so, and a command aborted (task failed) when memory stays exhausted.
import assert from 'node:assert/strict'
import { formatBytes, readMeminfo, ResourceMonitor } from '../../executors/native/resource-monitor.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

describe('resource monitor', function () {
  it('reads /proc/meminfo and prints bytes in SI units', () => {
    assert.deepEqual(readMeminfo('MemTotal:       16000000 kB\nMemFree:  1 kB\nMemAvailable:    8000000 kB\n'), { totalBytes: 16_384_000_000, availableBytes: 8_192_000_000 })
    assert.deepEqual([formatBytes(999), formatBytes(1500), formatBytes(16_384_000_000)], ['999 B', '1.5 kB', '16.4 GB'])
  })

  it('summarises samples and fires once memory stays too high for the allowed time', async () => {
    const samples = [
      { totalBytes: 100, availableBytes: 60 },
      { totalBytes: 100, availableBytes: 5 },
      { totalBytes: 100, availableBytes: 5 },
      { totalBytes: 100, availableBytes: 5 },
    ]
    let i = 0
    const fired: string[] = []
    const m = new ResourceMonitor({ maxMemoryUsagePercent: 90, minAvailableMemoryBytes: 10, allowedHighMemoryDurationSecs: 0 }, (msg) => fired.push(msg), () => samples[Math.min(i++, 3)]!, 10).start()
    await new Promise((r) => setTimeout(r, 80))
    const summary = m.stop()!
    assert.equal(fired.length, 1)
    assert.match(fired[0]!, /memory usage 95\.0% exceeds 90%/)
    assert.equal(summary.peakUsedBytes, 95)
    assert.equal(summary.totalBytes, 100)
  })

  describe('in native tasks (fake Queue)', function () {
    let fake: FakeQueue
    beforeEach(async () => {
      fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    })
    afterEach(async () => fake.stop())

    it('adds the memory lines to every result block, unless features.resourceMonitor is false', async () => {
      const on = await submitAndRun(fake, { command: [['true']], maxRunTime: 60 })
      assert.equal(on.state, 'completed')
      for (const label of ['Average Available System Memory', 'Average System Memory Used', 'Peak System Memory Used', 'Total System Memory']) {
        assert.match(on.log, new RegExp(`^\\[taskcluster \\S+\\] +${label}: [\\d.]+ [kMGT]?B$`, 'm'), label)
      }
      const off = await submitAndRun(fake, { command: [['true']], maxRunTime: 60, features: { resourceMonitor: false } })
      assert.equal(off.state, 'completed')
      assert.doesNotMatch(off.log, /System Memory/)
    })

    it('aborts a command while memory stays exhausted, and fails the task', async () => {
      // limits no host meets: the first sample is already "too high"
      const o = await submitAndRun(fake, { command: [['sleep', '120'], ['echo', 'not reached']], maxRunTime: 300 }, { config: { maxMemoryUsagePercent: 0, minAvailableMemoryBytes: 2 ** 50, allowedHighMemoryDurationSecs: 0 } })
      assert.equal(o.state, 'failed', o.log)
      assert.match(o.log, /\[taskcluster:error\] Aborting task: memory usage [\d.]+% exceeds 0%/)
      assert.match(o.log, /Command ABORTED after/)
      assert.doesNotMatch(o.log, /^not reached$/m)
    })
  })
})
