// By hand: `npm run differential -- FILE [FILE…]`. Each FILE (JSON or YAML) is a payload, or a
// case ({name, payload, scopes, roles}); each goes through docker-worker and megalodon and the
// differences are printed, each with the known difference that explains it (or UNEXPLAINED).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { runCases, type Case } from './harness.js'
import { differences } from './diff.js'
import { explain } from './known-differences.js'
import { dockerWorkerInstalled, DW_ROOT } from './workers.js'
import { dockerForTests } from '../../helpers/docker.js'

const files = process.argv.slice(2)
if (files.length === 0) {
  process.stderr.write('usage: npm run differential -- FILE.json|FILE.yml [...]\n')
  process.exit(2)
}
if (!dockerWorkerInstalled()) {
  process.stderr.write(`docker-worker is not installed in ${DW_ROOT}: run DW_ROOT=${DW_ROOT} bash ../shared/docker-worker-reference/setup.sh\n`)
  process.exit(2)
}
await dockerForTests()
const cases: Case[] = files.map((f) => {
  const v = parse(readFileSync(f, 'utf8')) as Record<string, unknown>
  return 'payload' in v ? ({ name: path.basename(f), source: f, ...v } as Case) : { name: path.basename(f), source: f, payload: v }
})
let unexplained = 0
for (const r of await runCases(cases, (l) => process.stderr.write(`${l}\n`))) {
  process.stdout.write(`\n== ${r.case.name}: docker-worker ${r.dw.resolution}, megalodon ${r.mg.resolution}\n`)
  for (const d of differences(r.dw, r.mg)) {
    const known = explain(r.case.name, d)
    if (!known) unexplained++
    process.stdout.write(`  ${d}\n      ${known ? `known: ${known.why}` : 'UNEXPLAINED'}\n`)
  }
  if (r.dwOutput.includes('task error')) process.stdout.write(`  docker-worker's stdout:\n${r.dwOutput.split('\n').filter((l) => l.includes('task error')).join('\n')}\n`)
}
process.exit(unexplained > 0 ? 1 : 0)
