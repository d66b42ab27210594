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
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
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
import { quantile } from './stats.js'
import { formatRelease, releaseFigures } from './release.js'

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

/** A task printing LOG_MB as fast as it can, with `readers` live-log readers (curl) attached. */
async function liveLogThroughput(readers: number) {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const taskId = slugid()
  await fake.createTask(taskId, { payload: { command: [['sleep', '1'], ['sh', '-c', `yes ${line} | head -c ${LOG_MB * 1_000_000}`]], maxRunTime: 600 } })
  const cpu0 = process.cpuUsage()
  const worker = runWorker(fake, { idleTimeoutSecs: 1 })
  const curls: Array<Promise<unknown>> = []
  while (!fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')) await new Promise((r) => setTimeout(r, 20))
  const url = fake.state.tasks.get(taskId)!.artifacts[0]!.get('public/logs/live.log')!.url!
  for (let i = 0; i < readers; i++) curls.push(new Promise((resolve) => spawn('curl', ['-s', '-o', '/dev/null', url]).once('exit', resolve)))
  await fake.waitForResolution(taskId, 0, 600_000)
  const cpu = process.cpuUsage(cpu0)
  await Promise.all(curls)
  await worker
  const log = fake.artifacts(taskId).get('public/logs/live_backing.log')!.content!.toString('latin1')
  const wall = goSeconds([...log.matchAll(/Wall Time: (\S+)/g)][1]![1]!)
  await fake.stop()
  return { readers, mbPerSec: +(LOG_MB / wall).toFixed(1), workerCpuMsPerMB: +((cpu.user + cpu.system) / 1000 / LOG_MB).toFixed(2) }
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

/** Trivial tasks per minute at a given capacity (claim of the first to resolution of the last). */
async function throughput(capacity: number, tasks: number) {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const ids: string[] = []
  for (let i = 0; i < tasks; i++) {
    const id = slugid()
    ids.push(id)
    await fake.createTask(id, { payload: { command: [['true']], maxRunTime: 30 } })
  }
  await runWorker(fake, { numberOfTasksToRun: tasks, capacity })
  const runs = ids.map((id) => fake.state.get(id).runs[0]!)
  const span = Math.max(...runs.map((r) => Date.parse(r.resolved!))) - Math.min(...runs.map((r) => Date.parse(r.started!)))
  await fake.stop()
  return { capacity, tasksPerMinute: Math.round((tasks / span) * 60_000) }
}

/** One big file as an artifact (identity encoding: the bytes as they are), vs a plain PUT of the same file. */
async function artifactUpload(mb: number) {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const taskId = slugid()
  await fake.createTask(taskId, {
    payload: { command: [['sh', '-c', `head -c ${mb * 1_000_000} /dev/urandom > big.bin`]], maxRunTime: 600, artifacts: [{ type: 'file', path: 'big.bin', name: 'public/big.bin', contentEncoding: 'identity' }] },
  })
  await runWorker(fake, { numberOfTasksToRun: 1 })
  const name = encodeURIComponent('public/big.bin')
  const workerPut = fake.requests.find((r) => r.method === 's3Put' && r.params[2] === name)!
  // the same bytes, PUT plainly to the same place
  const art = fake.artifacts(taskId).get('public/big.bin')!
  const tmp = path.join(os.tmpdir(), `megalodon-bench-${taskId}.bin`)
  await writeFile(tmp, art.content!)
  const t0 = performance.now()
  await putFile(`${fake.rootUrl}/_s3/${taskId}/0/${name}`, tmp, { 'content-type': art.contentType!, 'content-length': art.content!.length })
  const plainMs = performance.now() - t0
  await rm(tmp)
  await fake.stop()
  return { mb, workerMbPerSec: Math.round(mb / (workerPut.ms / 1000)), plainPutMbPerSec: Math.round(mb / (plainMs / 1000)) }
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
  const log = await peakThrough({ command: [['sh', '-c', `yes 'a line of task output, as a build prints it' | head -c ${logMib * 1024 * 1024}`]], maxRunTime: 1800 })
  const artifact = await peakThrough({
    command: [['sh', '-c', `head -c ${artifactMib * 1024 * 1024} /dev/urandom > big.bin`]],
    maxRunTime: 600,
    artifacts: [{ type: 'file', path: 'big.bin', name: 'public/big.bin', contentEncoding: 'identity' }],
  })
  return { logMib, artifactMib, idlePeakMiB: log.idle, logPeakMiB: log.peak, artifactPeakMiB: artifact.peak, log, artifact }
}

/** A directory of many small files as one directory artifact, vs plain PUTs of the same bodies (10 at once). */
async function smallFiles(count: number) {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const taskId = slugid()
  // `split` makes the files in one process: the task's own time stays small
  await fake.createTask(taskId, {
    payload: {
      command: [['sh', '-c', `head -c ${count * 1024} /dev/urandom > all && mkdir many && cd many && split -b 1024 -a 5 ../all f && rm ../all`]],
      maxRunTime: 600,
      artifacts: [{ type: 'directory', path: 'many', name: 'public/many' }],
    },
  })
  await runWorker(fake, { numberOfTasksToRun: 1 })
  const mine = fake.requests.filter((r) => r.params[0] === taskId && (r.method === 'createArtifact' || r.method === 's3Put') && decodeURIComponent(r.params[2] ?? '').startsWith('public/many/'))
  const workerMs = Math.max(...mine.map((r) => r.at + r.ms)) - Math.min(...mine.map((r) => r.at))
  const files = [...fake.artifacts(taskId).entries()].filter(([name]) => name.startsWith('public/many/'))
  const dir = path.join(os.tmpdir(), `megalodon-bench-small-${taskId}`)
  await mkdir(dir, { recursive: true })
  // the bytes exactly as the worker sent them (gzip-encoded: these names have no extension)
  for (const [i, [, a]] of files.entries()) await writeFile(path.join(dir, String(i)), a.body!)
  const queue = new PQueue({ concurrency: 10 })
  const t0 = performance.now()
  await Promise.all(
    files.map(([name, a], i) =>
      queue.add(() =>
        putFile(`${fake.rootUrl}/_s3/${taskId}/0/${encodeURIComponent(name)}`, path.join(dir, String(i)), {
          'content-type': a.contentType!,
          'content-length': a.body!.length,
          ...(a.contentEncoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
        }),
      ),
    ),
  )
  const plainMs = performance.now() - t0
  await rm(dir, { recursive: true, force: true })
  await fake.stop()
  return { files: files.length, workerSeconds: +(workerMs / 1000).toFixed(2), plainPutSeconds: +(plainMs / 1000).toFixed(2), ratio: +(workerMs / plainMs).toFixed(2) }
}

const results = {
  node: process.version,
  ...(await nativeOverhead()),
  ...(await idleRss()),
  imports: await importFigures(),
  liveLog: { mb: LOG_MB, plainWriteMbPerSec: await plainWriteMbPerSec(), withReaders: [await liveLogThroughput(0), await liveLogThroughput(10)] },
  proxy: await proxyLatency(),
  throughput: [await throughput(1, 60), await throughput(2, 60), await throughput(4, 80), await throughput(8, 80)],
  artifact: await artifactUpload(Number(process.env.BENCH_ARTIFACT_MB ?? 1024)),
  smallFiles: await smallFiles(Number(process.env.BENCH_SMALL_FILES ?? 10_000)),
  memory: await memoryPeaks(Number(process.env.BENCH_MEMORY_LOG_MIB ?? 5120), Number(process.env.BENCH_MEMORY_ARTIFACT_MIB ?? 1024)),
  docker: await dockerOverhead(Number(process.env.BENCH_DOCKER_RUNS ?? 20)),
  cachedImage: await cachedImage(),
  mount: await mountTiming(Number(process.env.BENCH_MOUNT_MB ?? 200)),
  release: await releaseFigures(),
}
const o = results.claimToResolutionMs
process.stdout.write(
  [
    `trivial native task (\`true\`), ${results.tasks} tasks through the fake Queue (${results.node}):`,
    `  claim → resolution   median ${o.median} ms, p95 ${o.p95} ms`,
    `  spawn \`true\` directly median ${results.spawnTrueMs.median} ms, p95 ${results.spawnTrueMs.p95} ms`,
    `  ratio (median)       ${(o.median / results.spawnTrueMs.median).toFixed(1)}×`,
    `worker idle RSS        ${results.idleRssMiB} MiB`,
    ...formatImports(results.imports),
    `task log, ${LOG_MB} MB printed as fast as possible (floor: the same pipe into /dev/null, ${results.liveLog.plainWriteMbPerSec} MB/s):`,
    ...results.liveLog.withReaders.map((r) => `  ${String(r.readers).padStart(2)} live readers       ${r.mbPerSec} MB/s, worker CPU ${r.workerCpuMsPerMB} ms per MB`),
    `taskcluster-proxy      direct ${results.proxy.directMs} ms, proxied ${results.proxy.proxiedMs} ms per request: +${results.proxy.addedMs} ms`,
    `throughput (\`true\`)    ${results.throughput.map((t) => `capacity ${t.capacity}: ${t.tasksPerMinute}/min`).join(', ')}`,
    `artifact upload        ${results.artifact.mb} MB file: worker PUT ${results.artifact.workerMbPerSec} MB/s, plain PUT of the same bytes ${results.artifact.plainPutMbPerSec} MB/s`,
    `small files            ${results.smallFiles.files} × 1 KiB as one directory artifact: worker ${results.smallFiles.workerSeconds} s, plain PUTs (10 at once) ${results.smallFiles.plainPutSeconds} s: ${results.smallFiles.ratio}×`,
    `worker peak RSS        idle ${results.memory.idlePeakMiB} MiB; through a ${results.memory.logMib} MiB log ${results.memory.logPeakMiB} MiB (${results.memory.log.seconds} s); through a ${results.memory.artifactMib} MiB artifact ${results.memory.artifactPeakMiB} MiB (${results.memory.artifact.seconds} s)`,
    `image from an artifact ${results.cachedImage.imageMB} MB tarball: first task ${results.cachedImage.firstTaskMs} ms (download + docker load), second ${results.cachedImage.secondTaskMs} ms (reused): ${results.cachedImage.ratio}×`,
    `tar.zst mount          ${results.mount.archiveMB} MB readOnlyDirectory: first task ${results.mount.firstTaskMs} ms (download + unpack), second ${results.mount.secondTaskMs} ms (from the download cache): ${results.mount.ratio}×`,
    `trivial docker task    claim → resolution median ${results.docker.taskMedianMs} ms vs \`docker run --rm\` ${results.docker.dockerRunMedianMs} ms (${results.docker.runs} each): ${results.docker.ratio}×`,
    ...formatRelease(results.release),
    '',
  ].join('\n'),
)
await writeFile(projectPath('bench', 'results.json'), JSON.stringify(results, null, 2) + '\n')
