// README's performance table is made from `make bench`'s results files (bench/readme-table.ts):
// one run gives its figures, several give each figure's range, a figure a run lacks is a dash.
import assert from 'node:assert/strict'
import { table } from '../../bench/readme-table.js'

const run = (workerMbPerSec: number, idleRssMiB: number) => ({
  node: 'v24.21.0',
  measuredAt: '2026-12-03T17:00:00.000Z',
  idle: { idleRssMiB },
  imports: { bareNodeRssMiB: 43.6 },
  artifact: { workerMbPerSec, plainPutMbPerSec: 1500, ratio: +(workerMbPerSec / 1500).toFixed(2) },
})

describe('bench README table', () => {
  it('one run: its figures', () => {
    const t = table([run(1200, 76.7)])
    assert.match(t, /^1 run of `make bench` \(2026-12-03\), Node v24\.21\.0;/)
    assert.match(t, /\| 1 GiB artifact upload \(identity\) \| 1200 MB\/s \| curl's PUT of the same file to the same sink: 1500 MB\/s \(ratio 0\.80\) \| ≥ 0\.9× \|/)
    assert.match(t, /\| worker idle RSS \| 76\.7 MiB \| bare Node: 43\.6 MiB \| ≤ 60 MiB \|/)
  })

  it('three runs: lowest–highest; a figure no run has is a dash', () => {
    const t = table([run(1200, 76.7), run(900, 76.9), run(1300, 76.8)])
    assert.match(t, /^3 runs of `make bench`/)
    assert.match(t, /\| 900–1300 MB\/s \|/)
    assert.match(t, /\| worker idle RSS \| 76\.7–76\.9 MiB \|/)
    assert.match(t, /\| real deployment, capacity 1: trivial tasks per minute, Queue requests per task \| –\/min, – requests \|/)
  })
})
