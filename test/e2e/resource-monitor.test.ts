// generic-worker's resource monitor: memory lines in each command's result block, off when the
// payload says so, and a command aborted (task failed) when memory stays exhausted.
import assert from 'node:assert/strict'
import { formatBytes, highMemoryFailure, highMemoryWarning, readMeminfo, ResourceMonitor } from '../../executors/native/resource-monitor.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

describe('resource monitor', function () {
  it('reads /proc/meminfo and prints bytes as FormatMemoryString does: binary units, two decimals (process/process.go:184-198)', () => {
    assert.deepEqual(readMeminfo('MemTotal:       16000000 kB\nMemFree:  1 kB\nMemAvailable:    8000000 kB\n'), { totalBytes: 16_384_000_000, availableBytes: 8_192_000_000 })
    assert.deepEqual(
      [formatBytes(512), formatBytes(1023), formatBytes(1500), formatBytes(5 * 2 ** 20), formatBytes(16_384_000_000), formatBytes(2 ** 30)],
      ['512.000000 B', '1023.000000 B', '1.46 KiB', '5.00 MiB', '15.26 GiB', '1.00 GiB'],
    )
    // %.2f rounds an exact tie to even: 1.125 KiB and 1.375 KiB
    assert.deepEqual([formatBytes(1152), formatBytes(1408)], ['1.12 KiB', '1.38 KiB'])
  })

  it('words the abort as generic-worker (process/process.go:267-272, resource_monitor_feature.go:59-63)', () => {
    const limits = { maxMemoryUsagePercent: 90, minAvailableMemoryBytes: 524_288_000, allowedHighMemoryDurationSecs: 5 }
    assert.equal(highMemoryWarning(limits), 'Memory usage above 90% and available memory less than 500.00 MiB persisted for over 5s!')
    assert.equal(highMemoryFailure(limits), 'task aborted due to sustained memory usage above 90% and available memory less than 500.00 MiB')
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
    const m = new ResourceMonitor({ maxMemoryUsagePercent: 90, minAvailableMemoryBytes: 10, allowedHighMemoryDurationSecs: 0 }, (warning) => fired.push(warning), () => samples[Math.min(i++, 3)]!, 10).start()
    await new Promise((r) => setTimeout(r, 80))
    const summary = m.stop()!
    assert.equal(fired.length, 1)
    assert.equal(fired[0], 'Memory usage above 90% and available memory less than 10.000000 B persisted for over 0s!')
    assert.equal(summary.peakUsedBytes, 95)
    assert.equal(summary.totalBytes, 100)
  })

  it('with disableOOMProtection warns once and never aborts (process/process.go:255-265)', async () => {
    const high = { totalBytes: 100, availableBytes: 5 }
    let samples = 0
    const aborted: string[] = []
    const warned: string[][] = []
    const m = new ResourceMonitor(
      { maxMemoryUsagePercent: 90, minAvailableMemoryBytes: 10, allowedHighMemoryDurationSecs: 0, disableOOMProtection: true },
      (failure) => aborted.push(failure),
      () => (samples++, high),
      10,
      (w) => warned.push(w),
    ).start()
    await new Promise((r) => setTimeout(r, 100))
    m.stop()
    assert.deepEqual(aborted, [])
    assert.deepEqual(warned, [['Memory usage above 90% and available memory less than 10.000000 B persisted for over 0s!', 'OOM protections are disabled, continuing task...']])
    assert.ok(samples > 3, 'it keeps measuring')
  })

  describe('in native tasks (fake Queue)', function () {
    let fake: FakeQueue
    beforeEach(async () => {
      fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    })
    afterEach(async () => fake.stop())

    it('adds the memory lines to the result block of a command that ran past the first sample (500 ms, process/process.go:220), unless features.resourceMonitor is false', async () => {
      const on = await submitAndRun(fake, { command: [['sleep', '1.2'], ['true']], maxRunTime: 60 })
      assert.equal(on.state, 'completed')
      const [first, second] = on.log.split('Executing command 1')
      for (const label of ['Average Available System Memory', 'Average System Memory Used', 'Peak System Memory Used', 'Total System Memory']) {
        assert.match(first!, new RegExp(`^\\[taskcluster \\S+\\] +${label}: [\\d.]+ (B|KiB|MiB|GiB)$`, 'm'), label)
      }
      // a command over before the first sample has none (process.go:132)
      assert.doesNotMatch(second!, /System Memory/)
      const off = await submitAndRun(fake, { command: [['sleep', '1.2']], maxRunTime: 60, features: { resourceMonitor: false } })
      assert.equal(off.state, 'completed')
      assert.doesNotMatch(off.log, /System Memory/)
    })

    it('aborts a command while memory stays exhausted, and fails the task', async () => {
      // limits no host meets: the first sample is already "too high"
      const o = await submitAndRun(fake, { command: [['sleep', '120'], ['echo', 'not reached']], maxRunTime: 300 }, { config: { maxMemoryUsagePercent: 0, minAvailableMemoryBytes: 2 ** 50, allowedHighMemoryDurationSecs: 0 } })
      assert.equal(o.state, 'failed', o.log)
      assert.match(o.log, /\[taskcluster:warn \S+\] Memory usage above 0% and available memory less than 1048576\.00 GiB persisted for over 0s!\n\[taskcluster:error\] Aborting task\.\.\.\n/)
      assert.match(o.log, /Command ABORTED after/)
      assert.match(o.log, /\n\[taskcluster:error\] task aborted due to sustained memory usage above 0% and available memory less than 1048576\.00 GiB\n$/)
      assert.doesNotMatch(o.log, /^not reached$/m)
    })
  })
})
