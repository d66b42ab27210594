// Decompressing and unpacking content in generic-worker's formats (native mounts; the docker
// executor's image tarballs use the decompressors too), always as streams
// (never a whole archive in memory), refusing any entry that would land outside the target
// directory: `..` paths, absolute paths, links pointing out, and any write through a link an
// earlier entry made (security audit C1: `lnk -> .` then `lnk/lnk/…/esc -> ../…` climbed out of
// a zip mount lexically checked). Owners are never taken from an archive and setuid/setgid bits
// are dropped (audit H3: the worker unpacks as root); entries and bytes are bounded (see
// ExtractLimits).
//
// Which format uses what (the README's table is this one):
// - gz, zz (zlib), br, zst: node:zlib, in process.
// - bz2, xz, lz, lz4: Debian's bzip2, xz-utils, lzip, lz4 commands (no maintained streaming
//   pure-JS decoders exist for them), piped.
// - tar (and tar.<any of the above>): node-tar, strict (an unsafe entry is an error; tar-extract.ts).
// - zip: yauzl (reads entries from the central directory, streams each; zip-extract.ts).
// Both are imported with the first archive of their kind: an idle worker loads neither.
// - 7z and rar: Debian's 7-Zip (`7z`, which reads RAR4 and RAR5), then the same check of what
//   it wrote.
// - sz: snappy's framing format, snappyjs for the blocks (snappy-framed.ts).
// - mz: MinLZ's stream format, decoded here from its specification (minlz.ts, minlz-block.ts).

import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { chmod, lstat, mkdir, mkdtemp, readdir, readlink, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { Duplex, PassThrough } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate, createZstdDecompress } from 'node:zlib'
import { minlzDecoder } from './minlz.js'
import { snappyFramedDecoder } from './snappy-framed.js'
import { Budget, defaultLimits, inside, KEPT_MODE_BITS, runPipeline, UnpackError, type ExtractLimits } from './unpack-common.js'

export { DEFAULT_MAX_ENTRIES, UnpackError, type ExtractLimits } from './unpack-common.js'

export const compressionFormats = ['br', 'bz2', 'gz', 'lz', 'lz4', 'mz', 'sz', 'xz', 'zst', 'zz'] as const
export type CompressionFormat = (typeof compressionFormats)[number]
export const archiveFormats = ['7z', 'rar', 'tar', 'tar.br', 'tar.bz2', 'tar.gz', 'tar.lz', 'tar.lz4', 'tar.mz', 'tar.sz', 'tar.xz', 'tar.zst', 'tar.zz', 'zip'] as const
export type ArchiveFormat = (typeof archiveFormats)[number]

/** The command-line tool (and its Debian package) behind each piped format. */
export const externalTools: Partial<Record<CompressionFormat | '7z', { command: string; args: string[]; debian: string }>> = {
  bz2: { command: 'bzip2', args: ['-dc'], debian: 'bzip2' },
  xz: { command: 'xz', args: ['-dc'], debian: 'xz-utils' },
  lz: { command: 'lzip', args: ['-dc'], debian: 'lzip' },
  lz4: { command: 'lz4', args: ['-dc'], debian: 'lz4' },
  '7z': { command: '7z', args: [], debian: 'p7zip-full' },
}

/**
 * A decompressing stream through an external command (stdin → stdout). Its output ends only
 * once the command has exited 0, so a command that rejects its input fails the pipeline even
 * after printing nothing.
 */
function piped(format: CompressionFormat): Duplex {
  const tool = externalTools[format]!
  const child = spawn(tool.command, tool.args, { stdio: ['pipe', 'pipe', 'pipe'] })
  const out = new PassThrough()
  const duplex = Duplex.from({ writable: child.stdin, readable: out })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdout.pipe(out, { end: false })
  child.on('error', (err) => duplex.destroy(new UnpackError(`${format} content needs the ${tool.command} command (Debian package ${tool.debian}): ${err.message}`)))
  child.on('close', (code) => {
    if (code === 0) out.end()
    else duplex.destroy(new UnpackError(`${tool.command} ${tool.args.join(' ')} failed (exit ${code}): ${stderr.trim()}`))
  })
  return duplex
}

/** A stream that decompresses `format`. */
export function decompressor(format: CompressionFormat): Duplex {
  switch (format) {
    case 'gz':
      return createGunzip()
    case 'zz':
      return createInflate()
    case 'br':
      return createBrotliDecompress()
    case 'zst':
      return createZstdDecompress()
    case 'bz2':
    case 'xz':
    case 'lz':
    case 'lz4':
      return piped(format)
    case 'sz':
      return snappyFramedDecoder()
    case 'mz':
      return minlzDecoder()
  }
}

/** Decompress a file into another (file mounts with a `format`). */
export async function decompressFile(source: string, target: string, format: CompressionFormat): Promise<void> {
  await runPipeline([createReadStream(source), decompressor(format), createWriteStream(target)])
}

/** Unpack an archive into `dir` (created if missing). */
export async function extractArchive(source: string, dir: string, format: ArchiveFormat, limits?: ExtractLimits): Promise<void> {
  await mkdir(dir, { recursive: true })
  const root = path.resolve(dir)
  const budget = new Budget(limits ?? (await defaultLimits(root)))
  // node-tar and yauzl are loaded with the first archive of their kind, not by an idle worker
  if (format === 'zip') return (await import('./zip-extract.js')).extractZip(source, root, budget)
  // 7-Zip reads rar (RAR4 and RAR5) too
  if (format === '7z' || format === 'rar') return extract7z(source, root, format, budget)
  const compression = format === 'tar' ? undefined : (format.slice('tar.'.length) as CompressionFormat)
  return (await import('./tar-extract.js')).extractTar(source, root, compression ? [decompressor(compression)] : [], budget)
}

/** 7z and rar through 7-Zip into a fresh directory, checked, then moved into place entry by entry. */
async function extract7z(source: string, root: string, format: '7z' | 'rar', budget: Budget): Promise<void> {
  const staging = await mkdtemp(path.join(path.dirname(root), '.unpack-'))
  try {
    const tool = externalTools['7z']!
    await new Promise<void>((resolve, reject) => {
      const child = spawn(tool.command, ['x', '-y', '-snl', `-o${staging}`, source], { stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      child.on('error', (err) => reject(new UnpackError(`${format} archives need the 7z command (Debian package ${tool.debian}): ${err.message}`)))
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new UnpackError(`cannot unarchive ${format} (exit ${code}): ${stderr.trim()}`))))
    })
    await assertContained(staging, staging, budget)
    for (const name of await readdir(staging)) await moveInto(path.join(staging, name), path.join(root, name))
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/** Every symbolic link under `dir` must point inside `root`; setuid/setgid bits are dropped; entries counted. */
async function assertContained(dir: string, root: string, budget: Budget): Promise<void> {
  for (const name of await readdir(dir)) {
    const p = path.join(dir, name)
    const st = await lstat(p)
    budget.entry()
    if (!st.isSymbolicLink() && (st.mode & 0o6000) !== 0) await chmod(p, st.mode & KEPT_MODE_BITS)
    if (st.isSymbolicLink()) {
      const link = await readlink(p)
      // 7z rewrites an absolute link under its output directory: absolute is refused outright
      if (path.isAbsolute(link) || !inside(root, path.resolve(dir, link))) throw new UnpackError(`unsafe archive: symbolic link ${path.relative(root, p)} -> ${link} points outside the target directory`)
    } else if (st.isDirectory()) await assertContained(p, root, budget)
  }
}

async function moveInto(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true })
  await rename(from, to)
}

/** The external commands of `externalTools` this host lacks, with the formats they serve. */
export async function missingTools(): Promise<Array<{ command: string; debian: string; formats: string }>> {
  const missing: Array<{ command: string; debian: string; formats: string }> = []
  for (const [format, tool] of Object.entries(externalTools)) {
    const found = await new Promise<boolean>((resolve) => {
      const child = spawn('sh', ['-c', `command -v ${tool!.command}`], { stdio: 'ignore' })
      child.once('error', () => resolve(false))
      child.once('exit', (code) => resolve(code === 0))
    })
    if (!found) missing.push({ command: tool!.command, debian: tool!.debian, formats: format === '7z' ? '7z, rar' : `${format}, tar.${format}` })
  }
  return missing
}
