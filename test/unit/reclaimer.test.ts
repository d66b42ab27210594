// When reclaims happen, and how task directories are named.
import assert from 'node:assert/strict'
import { reclaimDelayMs } from '../../src/run/reclaimer.js'
import { taskDirName } from '../../src/lib/task-dir.js'

describe('reclaim timing and task directories', () => {
  it('reclaims 3 minutes before takenUntil for 20-minute claims, halfway for short ones', () => {
    const now = Date.parse('2026-11-23T10:00:00Z')
    assert.equal(reclaimDelayMs('2026-11-23T10:20:00Z', now), 17 * 60_000)
    assert.equal(reclaimDelayMs('2026-11-23T10:00:04Z', now), 2000)
    assert.equal(reclaimDelayMs('2026-11-23T09:59:00Z', now), 0)
  })
  it('names task directories task_<id>_<run> in at most 20 characters', () => {
    assert.equal(taskDirName('KTBKfEgxR5GdfIIREQIvFQ', 0), 'task_KTBKfEgxR5Gdf_0')
    assert.ok(taskDirName('a-b_c', 12).length <= 20)
    assert.equal(taskDirName('a-b_c', 12), 'task_abc_12')
  })
})
