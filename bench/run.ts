// `make bench`: figures printed (and written to bench/results.json), never asserted.
// Per-task overhead of a trivial native task through the fake Queue against spawning the same
// command directly, and the worker's idle RSS.
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { slugid } from 'taskcluster-client'
import { projectPath } from '../src/paths.js'
import { FakeQueue } from '../test/helpers/fake-queue/index.js'
import { runWorker, spawnWorker } from '../test/helpers/worker.js'

const N = Number(process.env.BENCH_TASKS ?? 50)

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

async function spawnTrue(): Promise<number> {
  const t = performance.now()
  await new Promise((resolve) => spawn('true').once('exit', resolve))
  return performance.now() - t
}

async function nativeOverhead() {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const ids: string[] = []
  for (let i = 0; i < N; i++) {
    const id = slugid()
    ids.push(id)
    await fake.createTask(id, { payload: { command: [['true']], maxRunTime: 30 } })
  }
  await runWorker(fake, { numberOfTasksToRun: N })
  const durations = ids.map((id) => {
    const run = fake.state.get(id).runs[0]!
    return Date.parse(run.resolved!) - Date.parse(run.started!)
  })
  await fake.stop()
  const direct: number[] = []
  for (let i = 0; i < N; i++) direct.push(await spawnTrue())
  return {
    tasks: N,
    claimToResolutionMs: { median: quantile(durations, 0.5), p95: quantile(durations, 0.95) },
    spawnTrueMs: { median: +quantile(direct, 0.5).toFixed(2), p95: +quantile(direct, 0.95).toFixed(2) },
  }
}

async function idleRss() {
  const fake = await new FakeQueue({ claimWaitMs: 1000 }).start()
  const w = await spawnWorker(fake)
  await new Promise((r) => setTimeout(r, 5000))
  const status = await readFile(`/proc/${w.child.pid}/status`, 'utf8')
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1])
  w.child.kill('SIGINT')
  await w.exited
  await fake.stop()
  return { idleRssMiB: +(kib / 1024).toFixed(1) }
}

const results = { node: process.version, ...(await nativeOverhead()), ...(await idleRss()) }
const o = results.claimToResolutionMs
process.stdout.write(
  [
    `trivial native task (\`true\`), ${results.tasks} tasks through the fake Queue (${results.node}):`,
    `  claim → resolution   median ${o.median} ms, p95 ${o.p95} ms`,
    `  spawn \`true\` directly median ${results.spawnTrueMs.median} ms, p95 ${results.spawnTrueMs.p95} ms`,
    `  ratio (median)       ${(o.median / results.spawnTrueMs.median).toFixed(1)}×`,
    `worker idle RSS        ${results.idleRssMiB} MiB`,
    '',
  ].join('\n'),
)
await writeFile(projectPath('bench', 'results.json'), JSON.stringify(results, null, 2) + '\n')
