// Which packages an idle `megalodon run` has imported: the worker runs with a Node resolve hook
// that notes every package its import graph reaches. Used by the idle-imports test (what must
// stay unloaded) and by `make bench` (bench/imports.ts).
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { cliEntry } from '../../src/lib/paths.js'
import type { RawConfig } from '../../src/config/config.js'
import { FakeQueue } from './fake-queue/index.js'
import { workerConfig } from './worker.js'

/**
 * The packages (under node_modules) a worker has imported once it has been idle for `polls`
 * answered claimWork long-polls (the fake's poll is 1 s): started, claiming, nothing to do.
 */
export async function packagesLoadedWhenIdle(overrides: RawConfig = {}, polls = 2): Promise<string[]> {
  const fake = await new FakeQueue({ claimWaitMs: 1000 }).start()
  const config = await workerConfig(fake, overrides)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'megalodon-idle-packages-'))
  const seen = path.join(dir, 'packages')
  const hook = path.join(dir, 'hook.mjs')
  // Node's synchronous resolve hook sees every specifier the worker's import graph resolves.
  await writeFile(hook, [
    `import { registerHooks } from 'node:module'`,
    `import { appendFileSync } from 'node:fs'`,
    `registerHooks({ resolve(specifier, context, next) {`,
    `  const result = next(specifier, context)`,
    `  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url)`,
    `  if (m) appendFileSync(${JSON.stringify(seen)}, m[1] + '\\n')`,
    `  return result`,
    `} })`,
  ].join('\n'))
  await writeFile(path.join(dir, 'worker.json'), JSON.stringify(config))
  const child = spawn(process.execPath, ['--import', hook, cliEntry, 'run', '--config', path.join(dir, 'worker.json')], { stdio: 'ignore', cwd: dir })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  while (fake.requests.filter((r) => r.method === 'claimWork').length < polls) {
    if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}) before it was idle`)
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGINT')
  await exited
  await fake.stop()
  const packages = await readFile(seen, 'utf8').then((t) => [...new Set(t.trim().split('\n'))], () => [])
  await rm(dir, { recursive: true, force: true })
  return packages
}
