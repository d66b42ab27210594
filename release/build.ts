// `make release`: megalodon-<version>-<platform>-<arch>.tar.gz, one directory that runs with no
// Node installed, whatever `node` is on PATH:
//
//   bin/megalodon               the launcher (the same file as in a clone)
//   runtime/node, LICENSE       the project's Node 24 (npm's `node` package), stripped
//   dist/src/cli/cli.js         the entry point: turns on the compile cache, loads the bundle
//   dist/src/cli/megalodon.js   the command line and every JavaScript dependency (esbuild)
//   node_modules/node-pty/      node-pty, its addon compiled for runtime/node
//   schemas/, package.json      read at run time (payload schemas, the version)
//   cache/                      V8's compile cache for the above, made by running --version once
//   THIRD_PARTY_LICENSES.txt
//
// The platform and architecture are the runtime's: on a linux-arm64 machine, `npm ci` installs
// Node's arm64 build and the same command makes megalodon-<version>-linux-arm64.tar.gz.
import { execFile } from 'node:child_process'
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { projectPath } from '../src/lib/paths.js'
import { bundleCli, writeLicenses } from './bundle.js'
import { buildNodePty, findRuntime, installRuntime } from './runtime.js'

const run = promisify(execFile)

export interface Release {
  tarball: string
  /** The directory name inside the tarball (megalodon-<version>-<platform>-<arch>). */
  name: string
  version: string
  bytes: number
}

/** Builds the tarball into `outDir` (default: the project root). The compiled code (dist/) must be current. */
export async function buildRelease(outDir = projectPath()): Promise<Release> {
  const pkg = JSON.parse(await readFile(projectPath('package.json'), 'utf8')) as { name: string; version: string; description: string; license: string }
  const work = await mkdtemp(path.join(os.tmpdir(), 'megalodon-release-'))
  try {
    const runtime = await findRuntime(work)
    const name = `megalodon-${pkg.version}-${runtime.platform}-${runtime.arch}`
    const root = path.join(work, name)
    const cli = path.join(root, 'dist', 'src', 'cli')
    const packages = await bundleCli(path.join(cli, 'megalodon.js'), Number(runtime.version.slice(1).split('.')[0]))
    await cp(projectPath('dist', 'release', 'entry.js'), path.join(cli, 'cli.js'))
    await cp(projectPath('schemas'), path.join(root, 'schemas'), { recursive: true })
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, type: 'module' }, null, 2) + '\n')
    await mkdir(path.join(root, 'bin'))
    await cp(projectPath('bin', 'megalodon'), path.join(root, 'bin', 'megalodon'))
    await chmod(path.join(root, 'bin', 'megalodon'), 0o755)
    await installRuntime(runtime, path.join(root, 'runtime'))
    await buildNodePty(runtime, work, path.join(root, 'node_modules', 'node-pty'))
    const pty = JSON.parse(await readFile(projectPath('node_modules', 'node-pty', 'package.json'), 'utf8')) as { name: string; version: string; license: string }
    await writeLicenses(path.join(root, 'THIRD_PARTY_LICENSES.txt'), [...packages, { dir: path.join('node_modules', 'node-pty'), ...pty }], `Node.js ${runtime.version} (runtime/node): see runtime/LICENSE, which covers Node.js and the software it bundles.`)
    await warmCompileCache(root, pkg.version)

    await mkdir(outDir, { recursive: true })
    const tarball = path.join(outDir, `${name}.tar.gz`)
    const partial = `${tarball}.partial`
    // owned by root and in a stable order, whoever built it
    await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', partial, '-C', work, name])
    await rename(partial, tarball)
    return { tarball, name, version: pkg.version, bytes: (await stat(tarball)).size }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * Runs the release once (`--version`, with a bare environment so no NODE_OPTIONS flag changes
 * V8's cache key) to fill cache/, and checks that it ran: the tarball's first smoke test.
 */
async function warmCompileCache(root: string, version: string): Promise<void> {
  const { stdout } = await run(path.join(root, 'bin', 'megalodon'), ['--version'], { cwd: root, env: { PATH: '/usr/bin:/bin' } })
  // generic-worker's shape, `megalodon (<engine> engine) <version>` (src/cli/cli.ts)
  if (!new RegExp(`^megalodon \\((insecure|multiuser) engine\\) ${version.replace(/\./g, '\\.')}\n$`).test(stdout)) throw new Error(`the release printed ${JSON.stringify(stdout)} for --version`)
  const cache = path.join(root, 'cache')
  const entries = await readdir(cache, { recursive: true, withFileTypes: true })
  if (!entries.some((e) => e.isFile())) throw new Error('the compile cache stayed empty')
  // Node writes its cache owner-only; a worker running as another user may read it too.
  for (const e of entries) await chmod(path.join(e.parentPath, e.name), e.isDirectory() ? 0o755 : 0o644)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const release = await buildRelease()
  process.stdout.write(`${path.relative(process.cwd(), release.tarball)}: ${(release.bytes / 1e6).toFixed(1)} MB\n`)
}
