// The JavaScript half of the release: the compiled command line and every package it imports,
// bundled by esbuild into one ES module. node-pty stays a package beside it (its addon is loaded
// by a computed require that a bundler cannot follow). Only production dependencies go in, as
// `npm ci --omit=dev` would install them; their licences are collected for the tarball.
import { build, type Metafile, type Plugin } from 'esbuild'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { projectPath, projectRoot } from '../src/lib/paths.js'

/**
 * CommonJS packages inside an ES module bundle still call require() and read __dirname: the
 * bundle gets them from its own location (require then finds node-pty in the release's
 * node_modules).
 */
const BANNER = [
  "import { createRequire as __megalodonCreateRequire } from 'node:module'",
  "import { fileURLToPath as __megalodonFileURLToPath } from 'node:url'",
  'const require = __megalodonCreateRequire(import.meta.url)',
  'const __filename = __megalodonFileURLToPath(import.meta.url)',
  "const __dirname = __megalodonFileURLToPath(new URL('.', import.meta.url))",
].join(';\n')

/** Packages the bundle must not contain: they are loaded from node_modules at run time. */
const EXTERNAL_PACKAGES = ['node-pty']

export interface BundledPackage {
  /** Its directory relative to the project (node_modules/a, node_modules/a/node_modules/b). */
  dir: string
  name: string
  version: string
  license: string
}

interface Lockfile {
  packages: Record<string, { dev?: boolean }>
}

/** Bundles dist/src/cli/cli.js into `outfile`; returns the packages it took in. */
export async function bundleCli(outfile: string, nodeMajor: number): Promise<BundledPackage[]> {
  const lock = JSON.parse(await readFile(projectPath('package-lock.json'), 'utf8')) as Lockfile
  const result = await build({
    entryPoints: [projectPath('dist', 'src', 'cli', 'cli.js')],
    absWorkingDir: projectRoot,
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${nodeMajor}`,
    external: [...EXTERNAL_PACKAGES, '*.node'],
    banner: { js: BANNER },
    plugins: [productionOnly(lock)],
    metafile: true,
    logLevel: 'warning',
  })
  const packages = await packagesOf(result.metafile)
  const dev = packages.filter((p) => !lock.packages[p.dir] || lock.packages[p.dir]!.dev === true)
  if (dev.length > 0) throw new Error(`the bundle holds packages that are not production dependencies: ${dev.map((p) => p.dir).join(', ')}`)
  return packages
}

/** The package directory (node_modules/a, node_modules/a/node_modules/@b/c) a file is in. */
function packageDirOf(file: string): string | undefined {
  const m = /^(?:.*\/)?(node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file)
  return m ? file.slice(0, file.lastIndexOf(m[1]!) + m[1]!.length) : undefined
}

/**
 * A package that npm installs only for development (debug's optional `supports-color`, found
 * here because mocha brings it) becomes a module that throws MODULE_NOT_FOUND, as the require
 * would in a production install: the code that asked for it copes or fails the same way.
 */
function productionOnly(lock: Lockfile): Plugin {
  return {
    name: 'production-only',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'production-only' || args.path.startsWith('node:')) return undefined
        const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'production-only' })
        const dir = resolved.path ? packageDirOf(path.relative(projectRoot, resolved.path)) : undefined
        if (!dir || lock.packages[dir]?.dev !== true) return undefined
        return { path: args.path, namespace: 'not-in-production' }
      })
      b.onLoad({ filter: /.*/, namespace: 'not-in-production' }, (args) => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}' (a development dependency, not in the release)`)}), { code: 'MODULE_NOT_FOUND' })`,
        loader: 'js',
      }))
    },
  }
}

/** The package directory of every node_modules input. */
async function packagesOf(metafile: Metafile): Promise<BundledPackage[]> {
  const dirs = new Set<string>()
  for (const input of Object.keys(metafile.inputs)) {
    const dir = packageDirOf(input)
    if (dir) dirs.add(dir)
    else if (!input.startsWith('dist/') && !input.startsWith('not-in-production:')) throw new Error(`the bundle took in ${input}, which is neither compiled code nor a package`)
  }
  const packages: BundledPackage[] = []
  for (const dir of [...dirs].sort()) {
    const pkg = JSON.parse(await readFile(projectPath(dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string }
    packages.push({ dir, name: pkg.name, version: pkg.version, license: pkg.license ?? 'unknown' })
  }
  return packages
}

/** THIRD_PARTY_LICENSES.txt: each shipped package's name, version, licence and licence file. */
export async function writeLicenses(file: string, packages: Array<Pick<BundledPackage, 'dir' | 'name' | 'version' | 'license'>>, runtimeNote: string): Promise<void> {
  const parts = [`Third-party software in this release.\n\n${runtimeNote}\n`]
  for (const p of packages) {
    const names = await readdir(projectPath(p.dir))
    const licenseFile = names.find((n) => /^(licen[cs]e|copying)(\.|-|$)/i.test(n))
    const text = licenseFile ? (await readFile(projectPath(p.dir, licenseFile), 'utf8')).trim() : '(the package ships no licence file)'
    parts.push(`${'='.repeat(78)}\n${p.name} ${p.version} (${p.license})\n\n${text}\n`)
  }
  await writeFile(file, parts.join('\n'))
}

