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
// - tar (and tar.<any of the above>): node-tar, strict (an unsafe entry is an error).
// - zip: yauzl (reads entries from the central directory, streams each).
// - 7z and rar: Debian's 7-Zip (`7z`, which reads RAR4 and RAR5), then the same check of what
//   it wrote.
// - sz: snappy's framing format, snappyjs for the blocks (snappy-framed.ts).
// - mz: MinLZ's stream format, decoded here from its specification (minlz.ts, minlz-block.ts).

import { spawn } from 'node:child_process'
import { constants, createReadStream, createWriteStream } from 'node:fs'
import { chmod, lstat, mkdir, mkdtemp, open, readdir, readlink, rename, rm, statfs, symlink } from 'node:fs/promises'
import path from 'node:path'
import { Duplex, PassThrough, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createBrotliDecompress, createGunzip, createInflate, createZstdDecompress } from 'node:zlib'
import * as tar from 'tar'
import yauzl from 'yauzl'
import { minlzDecoder } from './minlz.js'
import { snappyFramedDecoder } from './snappy-framed.js'

export const compressionFormats = ['br', 'bz2', 'gz', 'lz', 'lz4', 'mz', 'sz', 'xz', 'zst', 'zz'] as const
export type CompressionFormat = (typeof compressionFormats)[number]
export const archiveFormats = ['7z', 'rar', 'tar', 'tar.br', 'tar.bz2', 'tar.gz', 'tar.lz', 'tar.lz4', 'tar.mz', 'tar.sz', 'tar.xz', 'tar.zst', 'tar.zz', 'zip'] as const
export type ArchiveFormat = (typeof archiveFormats)[number]

/** Content that cannot be unpacked safely or at all: generic-worker fails the task for it. */
export class UnpackError extends Error {}

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

/** pipeline() over stages, with our own errors kept as they are. */
async function runPipeline(stages: Array<Readable | Duplex | NodeJS.WritableStream>): Promise<void> {
  try {
    await pipeline(stages as unknown as [Readable, ...Duplex[]])
  } catch (err) {
    if (err instanceof UnpackError) throw err
    throw new UnpackError(`cannot unpack: ${(err as Error).message}`)
  }
}

/** Whether `target` lies inside `dir` (or is it). */
function inside(dir: string, target: string): boolean {
  const rel = path.relative(dir, target)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/**
 * How much one archive may unpack to. generic-worker is bounded only by the disk (the audit's
 * I4); megalodon stops at the free space the target had when it started, and at a count of
 * entries, with a task error that says which, instead of filling the disk or the inode table.
 */
export interface ExtractLimits {
  maxEntries: number
  maxBytes: number
}

export const DEFAULT_MAX_ENTRIES = 1_000_000

async function defaultLimits(root: string): Promise<ExtractLimits> {
  const fs = await statfs(root)
  return { maxEntries: DEFAULT_MAX_ENTRIES, maxBytes: Number(fs.bavail) * Number(fs.bsize) }
}

/** Counts entries and bytes against the limits; throws the task error once one is passed. */
class Budget {
  private entries = 0
  private bytes = 0
  constructor(private readonly limits: ExtractLimits) {}
  entry(): void {
    if (++this.entries > this.limits.maxEntries) throw new UnpackError(`archive has more than ${this.limits.maxEntries} entries`)
  }
  add(n: number): void {
    this.bytes += n
    if (this.bytes > this.limits.maxBytes) throw new UnpackError(`archive unpacks to more than ${this.limits.maxBytes} bytes (the free space of the target)`)
  }
}

/** Mode bits an unpacked file keeps: never setuid or setgid (the worker may be root). */
const KEPT_MODE_BITS = 0o1777

/**
 * The directories from `root` down to `dir` must be real directories, not links (an earlier
 * entry's): missing ones are made one by one, so nothing is ever created through a link.
 */
async function realDirectories(root: string, dir: string, entryName: string): Promise<void> {
  let at = root
  for (const part of path.relative(root, dir).split(path.sep).filter(Boolean)) {
    at = path.join(at, part)
    const st = await lstat(at).catch(() => undefined)
    if (!st) await mkdir(at)
    else if (st.isSymbolicLink()) throw new UnpackError(`unsafe archive: entry ${entryName} would be written through the symbolic link ${path.relative(root, at)}`)
    else if (!st.isDirectory()) throw new UnpackError(`unsafe archive: entry ${entryName} needs ${path.relative(root, at)} to be a directory`)
  }
}

/** Unpack an archive into `dir` (created if missing). */
export async function extractArchive(source: string, dir: string, format: ArchiveFormat, limits?: ExtractLimits): Promise<void> {
  await mkdir(dir, { recursive: true })
  const root = path.resolve(dir)
  const budget = new Budget(limits ?? (await defaultLimits(root)))
  if (format === 'zip') return extractZip(source, root, budget)
  // 7-Zip reads rar (RAR4 and RAR5) too
  if (format === '7z' || format === 'rar') return extract7z(source, root, format, budget)
  const compression = format === 'tar' ? undefined : (format.slice('tar.'.length) as CompressionFormat)
  const problems: string[] = []
  const extractor = tar.x({
    cwd: root,
    strict: true, // an entry node-tar will not write (absolute, `..`, through a link) is an error, not a warning
    preservePaths: false,
    // node-tar keeps the archive's owners when run as root: never (generic-worker's unarchive
    // has no chown, and runs as the task user)
    preserveOwner: false,
    filter: (entryPath, entry) => {
      const e = entry as tar.ReadEntry
      try {
        budget.entry()
        budget.add(e.size ?? 0)
      } catch (err) {
        extractor.abort(err as Error)
        return false
      }
      if (typeof e.mode === 'number') e.mode &= KEPT_MODE_BITS
      const at = path.resolve(root, entryPath)
      if (!inside(root, at)) {
        problems.push(`entry ${entryPath} would be written outside the target directory`)
        return false
      }
      if (e.type === 'SymbolicLink' && !inside(root, path.resolve(path.dirname(at), e.linkpath ?? ''))) {
        problems.push(`symbolic link ${entryPath} -> ${e.linkpath} points outside the target directory`)
        return false
      }
      if (e.type === 'Link' && !inside(root, path.resolve(root, e.linkpath ?? ''))) {
        problems.push(`hard link ${entryPath} -> ${e.linkpath} points outside the target directory`)
        return false
      }
      return true
    },
  })
  try {
    await runPipeline([createReadStream(source), ...(compression ? [decompressor(compression)] : []), extractor as unknown as Duplex])
  } catch (err) {
    if (err instanceof UnpackError) throw err
    const msg = (err as Error).message
    throw new UnpackError(/TAR_ENTRY|path|Absolute|\.\./i.test(msg) ? `unsafe archive entry: ${msg}` : msg)
  }
  if (problems.length > 0) throw new UnpackError(`unsafe archive: ${problems.join('; ')}`)
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(file, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip))))
}

async function extractZip(source: string, root: string, budget: Budget): Promise<void> {
  let zip: yauzl.ZipFile
  try {
    zip = await openZip(source)
  } catch (err) {
    throw new UnpackError(`cannot unarchive zip: ${(err as Error).message}`)
  }
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (err: Error) => reject(new UnpackError(`cannot unarchive zip: ${err.message}`)))
      zip.on('end', resolve)
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const target = path.resolve(root, entry.fileName)
          if (!inside(root, target)) throw new UnpackError(`unsafe archive: entry ${entry.fileName} would be written outside the target directory`)
          budget.entry()
          budget.add(entry.uncompressedSize)
          const mode = (entry.externalFileAttributes >>> 16) & 0o170000
          if (entry.fileName.endsWith('/')) {
            await realDirectories(root, target, entry.fileName)
          } else {
            await realDirectories(root, path.dirname(target), entry.fileName)
            const stream = await new Promise<Readable>((res, rej) => zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s))))
            if (mode === 0o120000) {
              // a symbolic link: its content is the target
              const chunks: Buffer[] = []
              for await (const c of stream) chunks.push(c as Buffer)
              const link = Buffer.concat(chunks).toString('utf8')
              if (!inside(root, path.resolve(path.dirname(target), link))) throw new UnpackError(`unsafe archive: symbolic link ${entry.fileName} -> ${link} points outside the target directory`)
              await symlink(link, target)
            } else {
              // O_NOFOLLOW: an entry of the same name made a link there earlier
              const out = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644)
              await pipeline(stream, out.createWriteStream())
            }
          }
          zip.readEntry()
        })().catch(reject)
      })
      zip.readEntry()
    })
  } catch (err) {
    if (err instanceof UnpackError) throw err
    throw new UnpackError(`cannot unarchive zip: ${(err as Error).message}`)
  } finally {
    zip.close()
  }
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
