// `make bench`'s release figures: the tarball (built into a temporary directory and unpacked)
// against the current layout (the clone's bin/megalodon: the project's Node on dist/ and
// node_modules/). Size on disk, `--version` wall time (interleaved runs, each with only
// /usr/bin:/bin on PATH), and the RSS of an idle `megalodon run` (5 s after start, fake Queue).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildRelease } from '../release/build.js'
import { projectPath } from '../src/lib/paths.js'
import { FakeQueue } from '../test/helpers/fake-queue/index.js'
import { workerConfig } from '../test/helpers/worker.js'

const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 20)
const mb = (bytes: number) => +(bytes / 1e6).toFixed(1)

/** Bytes under the paths (du's apparent size; hard links once). */
function diskBytes(...paths: string[]): number {
  return Number(execFileSync('du', ['-s', '-b', '-c', ...paths], { encoding: 'utf8' }).trim().split('\n').pop()!.split('\t')[0])
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function versionMs(launcher: string): number {
  const t = performance.now()
  const r = spawnSync('/usr/bin/env', ['-i', 'PATH=/usr/bin:/bin', launcher, '--version'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${launcher} --version: exit ${r.status} ${r.stderr}`)
  return performance.now() - t
}

async function idleRssMiB(launcher: string): Promise<number> {
  const fake = await new FakeQueue({ claimWaitMs: 1000 }).start()
  const config = await workerConfig(fake)
  const dir = path.dirname(String(config.tasksDir))
  await writeFile(path.join(dir, 'worker.json'), JSON.stringify(config))
  const child = spawn('/usr/bin/env', ['-i', 'PATH=/usr/bin:/bin', launcher, 'run', '--config', path.join(dir, 'worker.json')], { stdio: 'ignore' })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await new Promise((r) => setTimeout(r, 5000))
  // env and the launcher exec: the pid is the worker's
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1])
  child.kill('SIGINT')
  await exited
  await fake.stop()
  await rm(dir, { recursive: true, force: true })
  return +(kib / 1024).toFixed(1)
}

export async function releaseFigures() {
  const work = await mkdtemp(path.join(os.tmpdir(), 'megalodon-bench-release-'))
  try {
    const release = await buildRelease(work)
    execFileSync('tar', ['-xzf', release.tarball, '-C', work])
    const launchers = { release: path.join(work, release.name, 'bin', 'megalodon'), current: projectPath('bin', 'megalodon') }
    const times: Record<keyof typeof launchers, number[]> = { release: [], current: [] }
    versionMs(launchers.release)
    versionMs(launchers.current)
    for (let i = 0; i < STARTUP_RUNS; i++) for (const k of ['release', 'current'] as const) times[k].push(versionMs(launchers[k]))
    return {
      tarballMB: mb(release.bytes),
      unpackedMB: mb(diskBytes(path.join(work, release.name))),
      currentLayoutMB: mb(diskBytes(projectPath('dist'), projectPath('node_modules'))),
      versionMedianMs: { release: Math.round(median(times.release)), current: Math.round(median(times.current)), runs: STARTUP_RUNS },
      idleRssMiB: { release: await idleRssMiB(launchers.release), current: await idleRssMiB(launchers.current) },
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

export function formatRelease(r: Awaited<ReturnType<typeof releaseFigures>>): string[] {
  return [
    `release tarball        ${r.tarballMB} MB (${r.unpackedMB} MB unpacked); the current layout: dist/ + node_modules/ ${r.currentLayoutMB} MB`,
    `  --version            release ${r.versionMedianMs.release} ms, current ${r.versionMedianMs.current} ms (median of ${r.versionMedianMs.runs}, wall)`,
    `  idle RSS             release ${r.idleRssMiB.release} MiB, current ${r.idleRssMiB.current} MiB`,
  ]
}
