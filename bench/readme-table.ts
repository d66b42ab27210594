// README.md's performance table, made from `make bench`'s results (bench/results.json, or
// several results files: each figure then reads as the range of its runs), between the markers
// `<!-- bench-table:start -->` and `<!-- bench-table:end -->`. `make bench-readme` runs it.
import { readFile, writeFile } from 'node:fs/promises'
import { projectPath } from '../src/lib/paths.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- results.json is read as written by bench/run.ts */
type Results = any

const START = '<!-- bench-table:start -->'
const END = '<!-- bench-table:end -->'

/** A figure over the runs: `x`, or `min–max`. Runs without it are left out; none: `–`. */
function range(runs: Results[], get: (r: Results) => number | undefined, digits = 0): string {
  const values = runs.map((r) => {
    try {
      return get(r)
    } catch {
      return undefined
    }
  }).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (values.length === 0) return '–'
  const f = (v: number) => v.toFixed(digits)
  const lo = f(Math.min(...values))
  const hi = f(Math.max(...values))
  return lo === hi ? lo : `${lo}–${hi}`
}

export function table(runs: Results[]): string {
  const r = (get: (x: Results) => number | undefined, digits = 0) => range(runs, get, digits)
  const log = (x: Results, readers: number) => x.liveLog.withReaders.find((w: Results) => w.readers === readers)
  const dep = (x: Results, capacity: number) => x.deployment.rows?.find((w: Results) => w.deployment.capacity === capacity)
  const rows: string[][] = [
    ['1 GiB artifact upload (identity)', `${r((x) => x.artifact.workerMbPerSec)} MB/s`, `curl's PUT of the same file to the same sink: ${r((x) => x.artifact.plainPutMbPerSec)} MB/s (ratio ${r((x) => x.artifact.ratio, 2)})`, '≥ 0.9×'],
    ['10 000 × 1 KiB files, one directory artifact (gzip)', `${r((x) => x.smallFiles.workerSeconds, 2)} s`, `plain PUTs of the same bodies, 10 at once: ${r((x) => x.smallFiles.plainPutSeconds, 2)} s (ratio ${r((x) => x.smallFiles.ratio, 2)})`, '≤ 1.3×'],
    ['worker idle RSS', `${r((x) => x.idle.idleRssMiB, 1)} MiB`, `bare Node: ${r((x) => x.imports.bareNodeRssMiB, 1)} MiB`, '≤ 60 MiB'],
    ['idle RSS, release tarball vs the clone', `${r((x) => x.release.idleRssMiB.release, 1)} MiB`, `the clone's layout: ${r((x) => x.release.idleRssMiB.current, 1)} MiB`, ''],
    [`task log, 0 live readers (${r((x) => x.liveLog.mb)} MB)`, `${r((x) => log(x, 0).mbPerSec)} MB/s, ${r((x) => log(x, 0).workerCpuMsPerMB, 1)} ms worker CPU per MB`, `the same pipe to /dev/null: ${r((x) => x.liveLog.plainWriteMbPerSec)} MB/s`, '≥ 0.6× the pipe, ≤ 3 ms/MB'],
    ['the same, 10 live readers', `${r((x) => log(x, 10).mbPerSec)} MB/s, ${r((x) => log(x, 10).workerCpuMsPerMB, 1)} ms worker CPU per MB`, '', '≤ 5 ms/MB'],
    [
      `worker peak RSS through 1024 / ${r((x) => x.memory.logMib)} MiB of log, through a ${r((x) => x.memory.artifactMib)} MiB artifact`,
      `${r((x) => x.memory.oneGibLogPeakMiB)} / ${r((x) => x.memory.logPeakMiB)} MiB, ${r((x) => x.memory.artifactPeakMiB)} MiB`,
      `idle peak: ${r((x) => x.memory.idlePeakMiB)} MiB`,
      '≤ 150 MiB through 1 GiB of log',
    ],
    [`trivial native task (\`true\`), claim → resolution, ${r((x) => x.native.tasks)} tasks`, `median ${r((x) => x.native.claimToResolutionMs.median)} ms, p95 ${r((x) => x.native.claimToResolutionMs.p95)} ms`, `spawning \`true\`: median ${r((x) => x.native.spawnTrueMs.median, 1)} ms`, '≤ spawn + 5 ms'],
    [
      `trivial docker task, claim → resolution, ${r((x) => x.docker.runs)} tasks`,
      `median ${r((x) => x.docker.taskMedianMs)} ms`,
      `create, start, wait, remove through the same client: ${r((x) => x.docker.engineApiMedianMs)} ms (ratio ${r((x) => x.docker.ratioToEngineApi, 2)}); \`docker run --rm\`: ${r((x) => x.docker.dockerRunMedianMs)} ms (ratio ${r((x) => x.docker.ratio, 2)})`,
      '≤ 1.05× the API sequence, ≤ 0.9× docker run',
    ],
    ['trivial tasks per minute, fake Queue, capacity 1 / 2 / 4 / 8', [1, 2, 4, 8].map((c) => r((x) => x.throughput.find((t: Results) => t.capacity === c).tasksPerMinute)).join(' / '), '2 cores shared with the fake Queue', ''],
    ...[1, 4].map((c) => [
      `real deployment, capacity ${c}: trivial tasks per minute, Queue requests per task`,
      `${r((x) => dep(x, c).deployment.tasksPerMinute)}/min, ${r((x) => dep(x, c).deployment.queueRequestsPerTask, 1)} requests`,
      `the fake Queue, same worker process: ${r((x) => dep(x, c).fake.tasksPerMinute)}/min, ${r((x) => dep(x, c).fake.queueRequestsPerTask, 1)} requests`,
      '',
    ]),
    ['taskcluster-proxy, added latency per request', `+${r((x) => x.proxy.addedMs, 2)} ms`, `the same request direct: ${r((x) => x.proxy.directMs, 2)} ms`, ''],
    ['image from a task artifact, second task vs first', `${r((x) => x.cachedImage.secondTaskMs)} ms`, `first (download + docker load): ${r((x) => x.cachedImage.firstTaskMs)} ms`, ''],
    ['`readOnlyDirectory` tar.zst mount, second task vs first', `${r((x) => x.mount.secondTaskMs)} ms`, `first (download + unpack): ${r((x) => x.mount.firstTaskMs)} ms`, ''],
    ['release tarball; `--version` start-up', `${r((x) => x.release.tarballMB, 1)} MB; ${r((x) => x.release.versionMedianMs.release)} ms`, `the clone's dist/ + node_modules/: ${r((x) => x.release.currentLayoutMB)} MB; ${r((x) => x.release.versionMedianMs.current)} ms`, ''],
  ]
  const dates = runs.map((x) => String(x.measuredAt ?? '').slice(0, 10)).filter(Boolean)
  const head = `${runs.length} run${runs.length === 1 ? '' : 's'} of \`make bench\`${dates.length ? ` (${[...new Set(dates)].join(', ')})` : ''}, Node ${[...new Set(runs.map((x) => x.node))].join(', ')}; a range is the lowest and highest of the runs.`
  return [head, '', '| figure | value | floor, same run | target (issue #18) |', '| --- | --- | --- | --- |', ...rows.map((cells) => `| ${cells.join(' | ')} |`)].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2)
  if (files.length === 0) throw new Error('usage: readme-table.js RESULTS.json [MORE.json ...]')
  const runs: Results[] = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Results))
  const readmePath = projectPath('README.md')
  const readme = await readFile(readmePath, 'utf8')
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} section`)
  await writeFile(readmePath, `${readme.slice(0, start + START.length)}\n${table(runs)}\n${readme.slice(end)}`)
  process.stdout.write(`README.md: the performance table from ${files.join(', ')}\n`)
}
