// Durations printed as Go prints a time.Duration (generic-worker's task log).
import assert from 'node:assert/strict'
import { formatGoDuration } from '../../src/lib/go-duration.js'

describe('Go durations', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'],
    [999n, '999ns'],
    [1_500n, '1.5µs'],
    [12_500_000n, '12.5ms'],
    [1_234_567_890n, '1.23456789s'],
    [62_500_000_000n, '1m2.5s'],
    [3_600_000_000_000n, '1h0m0s'],
  ]
  for (const [n, s] of cases) it(`${n}ns → ${s}`, () => assert.equal(formatGoDuration(n), s))
})
