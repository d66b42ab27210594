// time.Time as Go's encoding/json writes it (RFC 3339 with nanoseconds, trailing zeros dropped),
// as generic-worker's cache tables carry it (mounts_feature.go:215-245).
import assert from 'node:assert/strict'
import { goTimeJson } from '../../executors/native/mounts/cache-state.js'

describe('goTimeJson', () => {
  it('drops trailing fraction zeros, and the fraction when it is zero; undefined is the zero time', function () {
    if (new Date(0).getTimezoneOffset() !== 0 || new Date(Date.UTC(2026, 6, 1)).getTimezoneOffset() !== 0) this.skip()
    assert.equal(goTimeJson(Date.UTC(2026, 11, 2, 18, 56, 7, 120)), '2026-12-02T18:56:07.12Z')
    assert.equal(goTimeJson(Date.UTC(2026, 11, 2, 18, 56, 7, 0)), '2026-12-02T18:56:07Z')
    assert.equal(goTimeJson(Date.UTC(2026, 11, 2, 18, 56, 7, 5)), '2026-12-02T18:56:07.005Z')
    assert.equal(goTimeJson(undefined), '0001-01-01T00:00:00Z')
  })
})
