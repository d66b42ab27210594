// What every unpacker shares: the task error, the bounds on one archive (entries, bytes), the
// mode bits an unpacked file keeps, and the checks that keep entries inside the target.

import { lstat, mkdir, statfs } from 'node:fs/promises'
import path from 'node:path'
import type { Duplex, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** Content that cannot be unpacked safely or at all: generic-worker fails the task for it. */
export class UnpackError extends Error {}

/** pipeline() over stages, with our own errors kept as they are. */
export async function runPipeline(stages: Array<Readable | Duplex | NodeJS.WritableStream>): Promise<void> {
  try {
    await pipeline(stages as unknown as [Readable, ...Duplex[]])
  } catch (err) {
    if (err instanceof UnpackError) throw err
    throw new UnpackError(`cannot unpack: ${(err as Error).message}`)
  }
}

/** Whether `target` lies inside `dir` (or is it). */
export function inside(dir: string, target: string): boolean {
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

export async function defaultLimits(root: string): Promise<ExtractLimits> {
  const fs = await statfs(root)
  return { maxEntries: DEFAULT_MAX_ENTRIES, maxBytes: Number(fs.bavail) * Number(fs.bsize) }
}

/** Counts entries and bytes against the limits; throws the task error once one is passed. */
export class Budget {
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
export const KEPT_MODE_BITS = 0o1777

/**
 * The directories from `root` down to `dir` must be real directories, not links (an earlier
 * entry's): missing ones are made one by one, so nothing is ever created through a link.
 */
export async function realDirectories(root: string, dir: string, entryName: string): Promise<void> {
  let at = root
  for (const part of path.relative(root, dir).split(path.sep).filter(Boolean)) {
    at = path.join(at, part)
    const st = await lstat(at).catch(() => undefined)
    if (!st) await mkdir(at)
    else if (st.isSymbolicLink()) throw new UnpackError(`unsafe archive: entry ${entryName} would be written through the symbolic link ${path.relative(root, at)}`)
    else if (!st.isDirectory()) throw new UnpackError(`unsafe archive: entry ${entryName} needs ${path.relative(root, at)} to be a directory`)
  }
}
