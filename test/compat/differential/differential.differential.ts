// The differential test: every payload of payloads.ts through the real docker-worker 99.2.1 (the
// reference kit) and through megalodon against the same fake Queue; the resolution, normalised
// log, artifacts and Queue calls must agree, except for the differences known-differences.ts
// lists with their reasons. `npm run test:differential` (needs the kit installed: setup.sh).
import assert from 'node:assert/strict'
import { dockerForTests, dockerTestsEnabled } from '../../helpers/docker.js'
import { differences } from './diff.js'
import { runCases, type Result } from './harness.js'
import { explain, KNOWN_DIFFERENCES } from './known-differences.js'
import { CASES } from './payloads.js'
import { dockerWorkerInstalled, DW_ROOT } from './workers.js'

describe('differential: docker-worker 99.2.1 and megalodon on the same payloads', function () {
  let results: Result[] = []
  const used = new Set<number>()
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    if (!dockerWorkerInstalled()) throw new Error(`docker-worker is not installed in ${DW_ROOT}: run DW_ROOT=${DW_ROOT} bash ../shared/docker-worker-reference/setup.sh`)
    await dockerForTests()
    results = await runCases(CASES, (l) => process.stderr.write(`    ${l}\n`))
  })

  for (const c of CASES) {
    it(`${c.name} (${c.source})`, () => {
      const r = results.find((x) => x.case === c)!
      const unexplained = differences(r.dw, r.mg).filter((d) => {
        const k = explain(c.name, d)
        if (k) used.add(KNOWN_DIFFERENCES.indexOf(k))
        return !k
      })
      assert.deepEqual(unexplained, [], `differences no entry of known-differences.ts explains (docker-worker's stdout:\n${r.dwOutput.split('\n').filter((l) => l.includes('task error')).join('\n')})`)
    })
  }

  after(() => {
    const stale = KNOWN_DIFFERENCES.filter((_, i) => !used.has(i))
    if (results.length > 0 && stale.length > 0) process.stderr.write(`\n    known differences nothing matched any more (remove them):\n${stale.map((k) => `      ${String(k.cases)}: ${k.pattern}`).join('\n')}\n`)
  })
})
