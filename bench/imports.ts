// `make bench`'s import figures: the resident memory each runtime dependency adds to a bare
// Node process when imported alone (each in a fresh process, median of three), and which
// packages an idle `megalodon run` has loaded. Idle RSS is mostly what was imported at start,
// so this is the list to shrink: a package a worker does not use while idle should not be on it.
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { projectPath } from '../src/lib/paths.js'
import { packagesLoadedWhenIdle } from '../test/helpers/idle-packages.js'

const RUNS = 3

/** RSS in MiB of a fresh Node that imported `specifier` (or nothing) and let its timers settle. */
function rssAfterImport(specifier: string | null): number {
  const load = specifier ? `await import(${JSON.stringify(specifier)});` : ''
  const script = `${load} await new Promise((r) => setTimeout(r, 200)); process.stdout.write(String(process.memoryUsage.rss()))`
  const samples: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: projectPath('.'), encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`importing ${specifier}: ${r.stderr}`)
    samples.push(Number(r.stdout) / 2 ** 20)
  }
  return +samples.sort((a, b) => a - b)[1]!.toFixed(1)
}

export async function importFigures() {
  const pkg = JSON.parse(await readFile(projectPath('package.json'), 'utf8')) as { dependencies: Record<string, string> }
  const bare = rssAfterImport(null)
  const perDependency = Object.fromEntries(Object.keys(pkg.dependencies).map((d) => [d, +(rssAfterImport(d) - bare).toFixed(1)]))
  const loadedWhenIdle = await packagesLoadedWhenIdle()
  const direct = Object.keys(pkg.dependencies).filter((d) => loadedWhenIdle.includes(d))
  return { bareNodeRssMiB: bare, addedRssMiB: perDependency, dependenciesLoadedWhenIdle: direct, packagesLoadedWhenIdle: loadedWhenIdle.length }
}

export function formatImports(f: Awaited<ReturnType<typeof importFigures>>): string[] {
  const sorted = Object.entries(f.addedRssMiB).sort((a, b) => b[1] - a[1])
  return [
    `imports                bare Node ${f.bareNodeRssMiB} MiB; each dependency alone adds (MiB): ${sorted.map(([d, m]) => `${d} ${m}`).join(', ')}`,
    `  loaded by an idle worker: ${f.dependenciesLoadedWhenIdle.join(', ')} (${f.packagesLoadedWhenIdle} packages in all)`,
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(formatImports(await importFigures()).join('\n') + '\n')
}
