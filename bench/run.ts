// `make bench`: figures printed (and written to bench/results.json), never asserted, each beside
// its floor measured in the same run: per-task overhead of a trivial native task through the
// fake Queue vs spawning it directly, idle RSS, live log throughput with 0 and 10 readers,
// taskcluster-proxy latency, throughput by capacity, artifact upload (one 1 GiB file, 10 000
// small files) vs plain PUTs, the worker's peak memory through a 1 GiB log and a 1 GiB artifact,
// a trivial docker task vs a bare `docker run --rm` on the same engine, an image from an
// artifact loaded by a first task and reused by a second, and the release tarball's size,
// start-up and idle RSS against the current layout (bench/release.ts), and the RSS each
// dependency adds and which ones an idle worker loads (bench/imports.ts).
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import PQueue from 'p-queue'
import os from 'node:os'
import path from 'node:path'
import { putFile } from '../src/taskcluster/http-put.js'
import { slugid } from 'taskcluster-client'
import { projectPath } from '../src/lib/paths.js'
import { FakeQueue } from '../test/helpers/fake-queue/index.js'
import { runWorker, spawnWorker } from '../test/helpers/worker.js'
import { cachedImage, dockerOverhead, mountTiming } from './docker-and-mounts.js'
import { formatImports, importFigures } from './imports.js'
import { startPutSink } from './put-sink.js'
import { quantile } from './stats.js'
import { formatRelease, releaseFigures } from './release.js'
import { deploymentFigures, fakeQueueFigures, formatDeployment } from './deployment.js'

const N = Number(process.env.BENCH_TASKS ?? 50)


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

/** Seconds of a Go duration as printed in the result block ("1.5s", "850ms", "1m2.5s"). */
function goSeconds(d: string): number {
  let total = 0
  for (const [, n, unit] of d.matchAll(/([0-9.]+)(h|ms|µs|ns|m|s)/g)) total += Number(n) * { h: 3600, m: 60, s: 1, ms: 1e-3, µs: 1e-6, ns: 1e-9 }[unit as 'h']
  return total
}

const LOG_MB = Number(process.env.BENCH_LOG_MB ?? 200)
const line = 'x'.repeat(99)

/** User + system CPU of a live process, in ms (/proc/<pid>/stat utime and stime, at USER_HZ 100). */
async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/**
 * A task printing LOG_MB as fast as it can, with `readers` live-log readers (curl) attached. The
 * worker is its own process: its CPU from the task's creation to its resolution is the worker's
 * alone (the fake Queue's is not counted), the backing log's gzip for its upload included.
 */
async function liveLogThroughput(readers: number) {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const worker = await spawnWorker(fake, { idleTimeoutSecs: 3600 })
  // idle first: start-up's CPU is not the log's
  while (fake.requests.filter((r) => r.method === 'claimWork').length < 2) await new Promise((r) => setTimeout(r, 50))
  const cpu0 = await processCpuMs(worker.child.pid!)
  const taskId = slugid()
  await fake.createTask(taskId, { payload: { command: [['sleep', '1'], ['sh', '-c', `yes ${line} | head -c ${LOG_MB * 1_000_000}`]], maxRunTime: 600 } })
  const curls: Array<Promise<unknown>> = []
  while (!fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')) await new Promise((r) => setTimeout(r, 20))
  const url = fake.state.tasks.get(taskId)!.artifacts[0]!.get('public/logs/live.log')!.url!
  for (let i = 0; i < readers; i++) curls.push(new Promise((resolve) => spawn('curl', ['-s', '-o', '/dev/null', url]).once('exit', resolve)))
  await fake.waitForResolution(taskId, 0, 600_000)
  const cpuMs = (await processCpuMs(worker.child.pid!)) - cpu0
  await Promise.all(curls)
  worker.child.kill('SIGINT')
  await worker.exited
  const log = fake.artifacts(taskId).get('public/logs/live_backing.log')!.content!.toString('latin1')
  const wall = goSeconds([...log.matchAll(/Wall Time: (\S+)/g)][1]![1]!)
  await fake.stop()
  return { readers, mbPerSec: +(LOG_MB / wall).toFixed(1), workerCpuMsPerMB: +(cpuMs / LOG_MB).toFixed(2) }
}

/** The same bytes into a file, no worker: the floor. */
async function plainWriteMbPerSec(): Promise<number> {
  const t = performance.now()
  await new Promise((resolve) => spawn('sh', ['-c', `yes ${line} | head -c ${LOG_MB * 1_000_000} > /dev/null`]).once('exit', resolve))
  return +(LOG_MB / ((performance.now() - t) / 1000)).toFixed(1)
}

/** Latency the in-process taskcluster-proxy adds: the same anonymous-readable request, direct and through the proxy. */
async function proxyLatency() {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const script = `
    const n = 200, path = '/api/queue/v1/task/' + process.env.TASK_ID + '/runs/0/artifacts/public/logs/live.log'
    const time = async (base) => { const t = performance.now(); for (let i = 0; i < n; i++) await (await fetch(base + path, { redirect: 'manual' })).arrayBuffer(); return (performance.now() - t) / n }
    ;(async () => { await time(process.env.TASKCLUSTER_ROOT_URL); const direct = await time(process.env.TASKCLUSTER_ROOT_URL); const proxied = await time(process.env.TASKCLUSTER_PROXY_URL); console.log('LATENCY ' + direct + ' ' + proxied) })()`
  const taskId = slugid()
  await fake.createTask(taskId, { payload: { command: [[process.execPath, '-e', script]], maxRunTime: 120, features: { taskclusterProxy: true } } })
  await runWorker(fake, { numberOfTasksToRun: 1 })
  const m = /^LATENCY (\S+) (\S+)$/m.exec(fake.artifacts(taskId).get('public/logs/live_backing.log')!.content!.toString())!
  await fake.stop()
  return { directMs: +Number(m[1]).toFixed(2), proxiedMs: +Number(m[2]).toFixed(2), addedMs: +(Number(m[2]) - Number(m[1])).toFixed(2) }
}

/** Runs one task on a worker of its own process (its own event loop, as in production); returns the run. */
async function runInOwnProcess(fake: FakeQueue, taskId: string) {
  const worker = await spawnWorker(fake, { numberOfTasksToRun: 1 })
  const code = await worker.exited
  if (code !== 0) throw new Error(`the worker exited ${code}: ${worker.stderr().slice(-2000)}`)
  return fake.state.get(taskId).runs[0]!
}

/** Milliseconds since the epoch of a performance.now() reading: comparable between processes, which performance.now() is not. */
const epochMs = (now: number) => performance.timeOrigin + now

/**
 * One big file as an artifact (identity encoding: the bytes as they are), vs a plain PUT of the
 * same file by curl. Both PUT to the sink (bench/put-sink.ts), which times each body the same way.
 */
async function artifactUpload(mb: number) {
  const sink = await startPutSink()
  const fake = await new FakeQueue({ claimWaitMs: 200, putBaseUrl: sink.url }).start()
  const source = path.join(os.tmpdir(), `megalodon-bench-${slugid()}.bin`)
  await new Promise((resolve) => spawn('sh', ['-c', `head -c ${mb * 1_000_000} /dev/urandom > ${source}`]).once('exit', resolve))
  const taskId = slugid()
  // the task copies the file, so the worker reads what the task just wrote (as a build's output)
  await fake.createTask(taskId, {
    payload: { command: [['cp', source, 'big.bin']], maxRunTime: 600, artifacts: [{ type: 'file', path: 'big.bin', name: 'public/big.bin', contentEncoding: 'identity' }] },
  })
  const run = await runInOwnProcess(fake, taskId)
  const worker = sink.received.find((r) => r.path.endsWith(encodeURIComponent('public/big.bin')))
  if (run.state !== 'completed' || !worker) throw new Error(`the upload task ended ${run.state}`)
  await new Promise((resolve) => spawn('curl', ['-sS', '-o', '/dev/null', '-H', 'Expect:', '-H', 'content-type: application/octet-stream', '-T', source, `${sink.url}/plain`]).once('exit', resolve))
  const plain = sink.received.find((r) => r.path === '/plain')!
  await rm(source)
  await fake.stop()
  await sink.stop()
  const workerMbPerSec = Math.round(mb / (worker.ms / 1000))
  const plainPutMbPerSec = Math.round(mb / (plain.ms / 1000))
  return { mb, workerMbPerSec, plainPutMbPerSec, ratio: +(workerMbPerSec / plainPutMbPerSec).toFixed(2) }
}

/** Peak RSS (VmHWM) of a process, in MiB. */
async function peakMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024)
}

/**
 * The worker as its own process (so the fake Queue's buffers are not counted), one fresh worker
 * per case: its peak RSS idle, then through a task printing `logMib` of log (5 GiB by default,
 * the security issue's figure), and through a task uploading a `artifactMib` artifact (1 GiB).
 * Streams, not buffers: the peaks should stay near the idle one.
 */
export async function memoryPeaks(logMib: number, artifactMib: number) {
  const peakThrough = async (payload: unknown) => {
    const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    const w = await spawnWorker(fake, { idleTimeoutSecs: 3600 })
    await new Promise((r) => setTimeout(r, 3000))
    const idle = await peakMiB(w.child.pid!)
    const id = slugid()
    await fake.createTask(id, { payload })
    const started = performance.now()
    const run = await fake.waitForResolution(id, 0, 1_800_000)
    const peak = await peakMiB(w.child.pid!)
    w.child.kill('SIGINT')
    await w.exited
    await fake.stop()
    return { idle, peak, state: run.state, seconds: +((performance.now() - started) / 1000).toFixed(1) }
  }
  const printing = (mib: number) => ({ command: [['sh', '-c', `yes 'a line of task output, as a build prints it' | head -c ${mib * 1024 * 1024}`]], maxRunTime: 1800 })
  // 1 GiB: issue #18's figure; logMib (5 GiB): the security issue's
  const gib = await peakThrough(printing(1024))
  const log = await peakThrough(printing(logMib))
  const artifact = await peakThrough({
    command: [['sh', '-c', `head -c ${artifactMib * 1024 * 1024} /dev/urandom > big.bin`]],
    maxRunTime: 600,
    artifacts: [{ type: 'file', path: 'big.bin', name: 'public/big.bin', contentEncoding: 'identity' }],
  })
  return { logMib, artifactMib, idlePeakMiB: log.idle, oneGibLogPeakMiB: gib.peak, logPeakMiB: log.peak, artifactPeakMiB: artifact.peak, log, artifact }
}

/**
 * A directory of many small files as one directory artifact, vs plain PUTs of the same bodies
 * (10 at once, from this process, on Node's keep-alive global agent as the worker's are) to the same sink. The worker's span runs from its
 * first createArtifact to the end of its last PUT.
 */
async function smallFiles(count: number) {
  const sink = await startPutSink()
  const fake = await new FakeQueue({ claimWaitMs: 200, putBaseUrl: sink.url }).start()
  const taskId = slugid()
  const dir = path.join(os.tmpdir(), `megalodon-bench-small-${taskId}`)
  await mkdir(dir, { recursive: true })
  // `split` makes the files in one process: the task's own time stays small
  await new Promise((resolve) => spawn('sh', ['-c', `head -c ${count * 1024} /dev/urandom > all && split -b 1024 -a 5 all f && rm all`], { cwd: dir }).once('exit', resolve))
  await fake.createTask(taskId, {
    payload: { command: [['cp', '-r', dir, 'many']], maxRunTime: 600, artifacts: [{ type: 'directory', path: 'many', name: 'public/many' }] },
  })
  const run = await runInOwnProcess(fake, taskId)
  if (run.state !== 'completed') throw new Error(`the small-files task ended ${run.state}`)
  const first = Math.min(...fake.requests.filter((r) => r.method === 'createArtifact' && decodeURIComponent(r.params[2] ?? '').startsWith('public/many/')).map((r) => epochMs(r.at)))
  const puts = sink.received.filter((r) => decodeURIComponent(r.path).includes('public/many/'))
  const workerMs = Math.max(...puts.map((r) => r.endEpochMs)) - first
  // the same bodies as the worker sent them: gzip (these names have no extension), prepared before the clock starts
  const bodies = await Promise.all((await readdir(dir)).map(async (f) => gzipSync(await readFile(path.join(dir, f)))))
  const queue = new PQueue({ concurrency: 10 })
  const t0 = performance.now()
  await Promise.all(bodies.map((body, i) => queue.add(() => putFile(`${sink.url}/plain/${i}`, body, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'content-encoding': 'gzip' }))))
  const plainMs = performance.now() - t0
  await rm(dir, { recursive: true, force: true })
  await fake.stop()
  await sink.stop()
  const connections = (received: typeof puts) => new Set(received.map((r) => r.clientPort)).size
  return { files: puts.length, workerConnections: connections(puts), plainConnections: connections(sink.received.filter((r) => r.path.startsWith('/plain/'))), workerSeconds: +(workerMs / 1000).toFixed(2), plainPutSeconds: +(plainMs / 1000).toFixed(2), ratio: +(workerMs / plainMs).toFixed(2) }
}

/** Issue #18's targets, printed beside the figures they judge (`met` or `not met`); never asserted. */
const verdict = (met: boolean, target: string) => `[target ${target}: ${met ? 'met' : 'not met'}]`

type Figures = Record<string, unknown>
interface Step<T> {
  run: () => Promise<T>
  lines: (figures: T) => string[]
}
const step = <T>(run: () => Promise<T>, lines: (figures: T) => string[]): Step<T> => ({ run, lines })

/** In the order they run; `BENCH_ONLY=artifact,smallFiles` runs some (and writes no results.json). */
const steps = {
  native: step(nativeOverhead, (o) => [
    `trivial native task (\`true\`), ${o.tasks} tasks through the fake Queue:`,
    `  claim → resolution   median ${o.claimToResolutionMs.median} ms, p95 ${o.claimToResolutionMs.p95} ms`,
    `  spawn \`true\` directly median ${o.spawnTrueMs.median} ms, p95 ${o.spawnTrueMs.p95} ms`,
    `  overhead (median)    spawn + ${(o.claimToResolutionMs.median - o.spawnTrueMs.median).toFixed(1)} ms, ${(o.claimToResolutionMs.median / o.spawnTrueMs.median).toFixed(1)}× ${verdict(o.claimToResolutionMs.median <= o.spawnTrueMs.median + 5, 'spawn + 5 ms')}`,
  ]),
  idle: step(idleRss, (r) => [`worker idle RSS        ${r.idleRssMiB} MiB ${verdict(r.idleRssMiB <= 60, '≤ 60 MiB')}`]),
  imports: step(importFigures, formatImports),
  liveLog: step(
    async () => ({ mb: LOG_MB, plainWriteMbPerSec: await plainWriteMbPerSec(), withReaders: [await liveLogThroughput(0), await liveLogThroughput(10)] }),
    (l) => [
      `task log, ${l.mb} MB printed as fast as possible (floor: the same pipe into /dev/null, ${l.plainWriteMbPerSec} MB/s):`,
      ...l.withReaders.map((r) => {
        const cpuTarget = r.readers === 0 ? 3 : 5
        const throughput = r.readers === 0 ? ` ${verdict(r.mbPerSec >= 0.6 * l.plainWriteMbPerSec, '≥ 0.6× the floor')}` : ''
        return `  ${String(r.readers).padStart(2)} live readers       ${r.mbPerSec} MB/s (${(r.mbPerSec / l.plainWriteMbPerSec).toFixed(2)}× the floor)${throughput}, worker CPU ${r.workerCpuMsPerMB} ms per MB ${verdict(r.workerCpuMsPerMB <= cpuTarget, `≤ ${cpuTarget} ms`)}`
      }),
    ],
  ),
  proxy: step(proxyLatency, (p) => [`taskcluster-proxy      direct ${p.directMs} ms, proxied ${p.proxiedMs} ms per request: +${p.addedMs} ms`]),
  throughput: step(
    async () => [await fakeQueueFigures(1, 60), await fakeQueueFigures(2, 60), await fakeQueueFigures(4, 80), await fakeQueueFigures(8, 80)],
    (t) => [`throughput (\`true\`)    ${t.map((x) => `capacity ${x.capacity}: ${x.tasksPerMinute}/min`).join(', ')}`],
  ),
  artifact: step(
    () => artifactUpload(Number(process.env.BENCH_ARTIFACT_MB ?? 1024)),
    (a) => [`artifact upload        ${a.mb} MB file: worker PUT ${a.workerMbPerSec} MB/s, curl's plain PUT of the same file ${a.plainPutMbPerSec} MB/s: ${a.ratio}× ${verdict(a.ratio >= 0.9, '≥ 0.9×')}`],
  ),
  smallFiles: step(
    () => smallFiles(Number(process.env.BENCH_SMALL_FILES ?? 10_000)),
    (f) => [`small files            ${f.files} × 1 KiB as one directory artifact: worker ${f.workerSeconds} s, plain PUTs (10 at once) ${f.plainPutSeconds} s: ${f.ratio}× (connections: worker ${f.workerConnections}, plain ${f.plainConnections}) ${verdict(f.ratio <= 1.3, '≤ 1.3×')}`],
  ),
  memory: step(
    () => memoryPeaks(Number(process.env.BENCH_MEMORY_LOG_MIB ?? 5120), Number(process.env.BENCH_MEMORY_ARTIFACT_MIB ?? 1024)),
    (m) => [
      `worker peak RSS        idle ${m.idlePeakMiB} MiB; through 1024 MiB of log ${m.oneGibLogPeakMiB} MiB ${verdict(m.oneGibLogPeakMiB <= 150, '≤ 150 MiB')}; through ${m.logMib} MiB of log ${m.logPeakMiB} MiB (${m.log.seconds} s); through a ${m.artifactMib} MiB artifact ${m.artifactPeakMiB} MiB (${m.artifact.seconds} s)`,
    ],
  ),
  docker: step(
    () => dockerOverhead(Number(process.env.BENCH_DOCKER_RUNS ?? 20)),
    (d) => [
      `trivial docker task    claim → resolution median ${d.taskMedianMs} ms (${d.runs} tasks)`,
      `  vs the bare Engine API sequence (create, start, wait, remove; same client) ${d.engineApiMedianMs} ms: ${d.ratioToEngineApi}× ${verdict(d.ratioToEngineApi <= 1.05, '≤ 1.05×')}`,
      `  vs \`docker run --rm\` ${d.dockerRunMedianMs} ms: ${d.ratio}× ${verdict(d.ratio <= 0.9, '≤ 0.9×')}`,
    ],
  ),
  cachedImage: step(cachedImage, (c) => [
    `image from an artifact ${c.imageMB} MB tarball: first task ${c.firstTaskMs} ms (download + docker load), second ${c.secondTaskMs} ms (reused): ${c.ratio}×`,
  ]),
  mount: step(
    () => mountTiming(Number(process.env.BENCH_MOUNT_MB ?? 200)),
    (m) => [`tar.zst mount          ${m.archiveMB} MB readOnlyDirectory: first task ${m.firstTaskMs} ms (download + unpack), second ${m.secondTaskMs} ms (from the download cache): ${m.ratio}×`],
  ),
  deployment: step(() => deploymentFigures([1, 4], Number(process.env.BENCH_DEPLOYMENT_TASKS ?? 40)), formatDeployment),
  release: step(releaseFigures, formatRelease),
}

const only = process.env.BENCH_ONLY?.split(',').map((x) => x.trim())
const unknown = only?.filter((name) => !(name in steps)) ?? []
if (unknown.length > 0) throw new Error(`BENCH_ONLY names no such figures: ${unknown.join(', ')} (there are ${Object.keys(steps).join(', ')})`)
const results: Figures = { node: process.version, measuredAt: new Date().toISOString() }
process.stdout.write(`megalodon bench on Node ${process.version}, ${os.cpus().length} cores\n`)
for (const [name, s] of Object.entries(steps) as Array<[string, Step<unknown>]>) {
  if (only && !only.includes(name)) continue
  const figures = await s.run()
  results[name] = figures
  // each figure as soon as it is measured: a long bench shows its progress
  process.stdout.write(s.lines(figures).join('\n') + '\n')
}
if (!only) await writeFile(projectPath('bench', 'results.json'), JSON.stringify(results, null, 2) + '\n')
