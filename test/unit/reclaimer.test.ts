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
  // generic-worker main.go:648-658: task_ + taskId[:20-6-len(runId)] + _ + runId, characters kept
  it('names task directories task_<id>_<run> in at most 20 characters, keeping - and _ of the taskId', () => {
    assert.equal(taskDirName('KTBKfEgxR5GdfIIREQIvFQ', 0), 'task_KTBKfEgxR5Gdf_0')
    assert.equal(taskDirName('a-b_c', 12), 'task_a-b_c_12')
    assert.equal(taskDirName('-_Kf-gxR5GdfIIREQIvFQ', 123), 'task_-_Kf-gxR5Gd_123')
    assert.equal(taskDirName('-_Kf-gxR5GdfIIREQIvFQ', 123).length, 20)
  })
})
