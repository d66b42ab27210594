// generic-worker's `mounts`: files, read-only directories and writable directory caches put in
// the task directory before the commands run.
// - Content (url, artifact, indexed artifact, raw, base64) is downloaded once into downloadsDir
//   and reused by later tasks (keyed by its source); its sha256 is checked against the payload's
//   on every use, and logged when the payload gives none.
// - Writable caches live in cachesDir between tasks; a task gets an instance no other running
//   task holds (moved into the task directory, moved back after), and an instance is deleted
//   instead of kept when the run was aborted or its exit code is in onExitStatus.purgeCaches.
// Any failure while mounting fails the task (generic-worker: `failed`, not exception).

import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { copyFile, lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import taskcluster, { downloadArtifact } from 'taskcluster-client'
import { TaskFailure } from '../../src/contract/errors.js'
import { CachePool, type CacheInstance } from '../../src/lib/cache-pool.js'
import type { PurgeRequests } from '../../src/taskcluster/purge-cache.js'
import { sha256File } from '../../src/lib/sha256.js'
import { artifactDownloadRetry, withRetry } from '../../src/taskcluster/retry.js'
import type { TaskLog } from '../../src/lib/task-log.js'
import type { TaskContext } from '../../src/contract/task-context.js'
import { decompressFile, extractArchive, type ArchiveFormat, type CompressionFormat } from '../../src/lib/archives/index.js'

export type Content =
  | { taskId: string; artifact: string; sha256?: string }
  | { namespace: string; artifact: string }
  | { url: string; sha256?: string }
  | { raw: string }
  | { base64: string }

export type Mount =
  | { file: string; content: Content; format?: CompressionFormat }
  | { directory: string; cacheName: string; content?: Content; format?: ArchiveFormat }
  | { directory: string; content: Content; format: ArchiveFormat }

export const isCache = (m: Mount): m is Extract<Mount, { cacheName: string }> => 'cacheName' in m

/** How a mount's content is described in log lines. */
export function describeContent(c: Content): string {
  if ('url' in c) return `url ${c.url}`
  if ('taskId' in c) return `artifact ${c.artifact} of task ${c.taskId}`
  if ('namespace' in c) return `artifact ${c.artifact} of indexed task ${c.namespace}`
  return 'raw' in c ? 'raw content' : 'base64 content'
}

/** Where a mount lands: a path in the task directory, or (as generic-worker allows) any other absolute one. */
export interface MountPlace {
  target: string
  /** Outside the task directory: put there with the task's rights (see TaskMover). */
  outside: boolean
}

/**
 * The place of a mount given relative to the task directory or absolute, as generic-worker takes
 * it. Refused: the task directory itself or a directory above it (a cache there would swallow
 * it), and the worker's own `generic-worker/` directory in it (the task log).
 */
export function mountPlace(taskDir: string, where: string): MountPlace {
  const target = path.resolve(taskDir, where)
  const rel = path.relative(taskDir, target)
  if (rel === '' || taskDir.startsWith(target + path.sep)) throw new TaskFailure(`Mount target ${where} would replace the task directory`)
  const outside = rel.startsWith('..') || path.isAbsolute(rel)
  if (!outside && rel.split(path.sep)[0] === 'generic-worker') throw new TaskFailure(`Mount target ${where} is inside the worker's own generic-worker directory`)
  return { target, outside }
}

/**
 * Moves mounts between the task directory and places outside it with the rights the task runs
 * with: the worker prepares a mount inside the task directory, and the task's own user moves it
 * out (and a cache back in after the task). So a mount lands only where the task itself could
 * write, whoever the worker runs as: on the multiuser engine never somewhere only root may.
 * coreutils' `mv` also copies across file systems, which rename alone cannot.
 */
export interface TaskMover {
  /** Before moving out: make the prepared content the task's (the multiuser engine chowns it). */
  own(staged: string): Promise<void>
  /** argv run with the task's rights. */
  run(argv: string[]): Promise<void>
}

async function moveOut(mover: TaskMover, staged: string, target: string): Promise<void> {
  await mover.own(staged)
  try {
    await mover.run(['sh', '-c', 'mkdir -p -- "$(dirname -- "$2")" && mv -T -- "$1" "$2"', 'sh', staged, target])
  } catch (err) {
    // what was staged stays in the task directory: a cache goes back to the pool from there
    throw new TaskFailure(`Cannot mount at ${target} with the task's rights: ${(err as Error).message}`)
  }
}

/** A fresh place in the task directory to prepare an outside mount in. */
function stagingPath(taskDir: string): string {
  return path.join(taskDir, `.megalodon-mount-${randomUUID()}`)
}

interface Downloaded {
  file: string
  sha256: string
  size: number
  lastUsed: number
}

/** Downloaded content under downloadsDir, by source; one download per source at a time. */
export class DownloadCache {
  private index: Record<string, Downloaded> | undefined
  private readonly inFlight = new Map<string, Promise<Downloaded>>()
  /** Downloads tasks are using now, by key, with how many uses: never evicted. */
  private readonly pinned = new Map<string, number>()

  constructor(private readonly dir: string) {}

  private async load(): Promise<Record<string, Downloaded>> {
    if (this.index) return this.index
    await mkdir(this.dir, { recursive: true })
    try {
      this.index = JSON.parse(await readFile(path.join(this.dir, 'index.json'), 'utf8')) as Record<string, Downloaded>
    } catch {
      this.index = {}
    }
    return this.index
  }

  private async save(): Promise<void> {
    await writeFile(path.join(this.dir, 'index.json'), JSON.stringify(this.index, null, 2))
  }

  /**
   * Runs `use` with a local file holding the content's bytes (never to be modified: mounts copy
   * or unpack it). The download is not evicted while `use` runs: garbage collection before
   * another claim may run while this task still unpacks it.
   */
  async with<T>(ctx: TaskContext, content: Content, log: (line: string) => void, use: (file: string) => Promise<T>): Promise<T> {
    const source = await sourceKey(ctx, content)
    const { key } = source
    this.pinned.set(key, (this.pinned.get(key) ?? 0) + 1)
    try {
      return await use((await this.fetch(ctx, content, source, log)).file)
    } finally {
      const left = this.pinned.get(key)! - 1
      if (left > 0) this.pinned.set(key, left)
      else this.pinned.delete(key)
    }
  }

  private async fetch(ctx: TaskContext, content: Content, source: { key: string; taskId?: string }, log: (line: string) => void): Promise<Downloaded> {
    const index = await this.load()
    const { key, taskId } = source
    const wanted = 'sha256' in content ? content.sha256 : undefined
    const known = index[key]
    if (known) {
      // generic-worker checks a cached download again on every use
      const actual = await sha256File(known.file).then((f) => f.sha256, () => undefined)
      if (actual && (!wanted || actual === wanted)) {
        known.lastUsed = Date.now()
        await this.save()
        log(`Using cached ${describeContent(content)} (${known.size} bytes)`)
        return known
      }
      delete index[key]
      await rm(known.file, { force: true })
    }
    let job = this.inFlight.get(key)
    if (!job) {
      job = this.download(ctx, content, taskId, log).finally(() => this.inFlight.delete(key))
      this.inFlight.set(key, job)
    }
    const done = await job
    if (wanted && done.sha256 !== wanted) {
      await rm(done.file, { force: true })
      throw new TaskFailure(`Download ${describeContent(content)} has SHA256 ${done.sha256} but task definition explicitly requires ${wanted}; not retrying download as there were no connection failures and HTTP response status code was 200`)
    }
    if (!wanted) log(`Download ${describeContent(content)} has SHA256 ${done.sha256} but the task payload does not declare a required value, so its authenticity cannot be verified`)
    index[key] = done
    await this.save()
    return done
  }

  /** Delete cached downloads, least recently used first, until `enough()`; none being downloaded or used. */
  async evict(enough: () => Promise<boolean>, log: (line: string) => void): Promise<void> {
    const index = await this.load()
    const entries = Object.entries(index).sort(([, a], [, b]) => a.lastUsed - b.lastUsed)
    for (const [key, d] of entries) {
      if (await enough()) return
      if (this.inFlight.has(key) || this.pinned.has(key)) continue
      delete index[key]
      await rm(d.file, { force: true })
      await this.save()
      log(`evicted cached download ${key} (${d.size} bytes)`)
    }
  }

  private async download(ctx: TaskContext, content: Content, taskId: string | undefined, log: (line: string) => void): Promise<Downloaded> {
    const file = path.join(this.dir, randomUUID())
    if ('raw' in content || 'base64' in content) {
      const bytes = 'raw' in content ? Buffer.from(content.raw, 'utf8') : Buffer.from(content.base64, 'base64')
      await writeFile(file, bytes)
      return { file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, lastUsed: Date.now() }
    }
    let hash = createHash('sha256')
    let size = 0
    let lastReport = Date.now()
    const started = Date.now()
    // One attempt: bytes hashed and counted on their way to the file, a progress line every 5 s.
    // Each attempt (a retry) starts the file, the hash and the count again.
    let written: Promise<void> = Promise.resolve()
    const sink = (): NodeJS.WritableStream => {
      hash = createHash('sha256')
      size = 0
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk)
          size += chunk.length
          if (Date.now() - lastReport >= 5000) {
            lastReport = Date.now()
            log(`Downloaded ${(size / 1e6).toFixed(1)} MB of ${describeContent(content)} (${(size / 1e6 / ((Date.now() - started) / 1000)).toFixed(1)} MB/s)`)
          }
          done(null, chunk)
        },
      })
      const out = createWriteStream(file)
      written = finished(out)
      meter.pipe(out)
      return meter
    }
    log(`Downloading ${describeContent(content)}`)
    try {
      if ('url' in content) {
        await withRetry(async () => {
          const res = await fetch(content.url, { signal: ctx.signal })
          if (!res.ok || !res.body) throw Object.assign(new Error(`GET ${content.url} answered ${res.status}`), { statusCode: res.status })
          await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), sink())
          await written
        }, { retries: 3, signal: ctx.signal })
      } else {
        const queue = new taskcluster.Queue({ rootUrl: ctx.config.rootURL, credentials: ctx.credentials(), retries: 0 })
        await downloadArtifact({ taskId: taskId!, name: content.artifact, queue, ...artifactDownloadRetry, streamFactory: async () => sink() })
        await written
      }
    } catch (err) {
      await rm(file, { force: true })
      throw new TaskFailure(`Could not fetch ${describeContent(content)}: ${(err as Error).message}`, { cause: err })
    }
    log(`Downloaded ${size} bytes of ${describeContent(content)}`)
    return { file, sha256: hash.digest('hex'), size, lastUsed: Date.now() }
  }
}

/** The download cache key of a content source; indexed content resolves to its task. */
async function sourceKey(ctx: TaskContext, content: Content): Promise<{ key: string; taskId?: string }> {
  if ('url' in content) return { key: `urlcontent:${content.url}` }
  if ('raw' in content) return { key: `raw:${createHash('sha256').update(content.raw).digest('hex')}` }
  if ('base64' in content) return { key: `base64:${createHash('sha256').update(content.base64).digest('hex')}` }
  let taskId: string
  if ('namespace' in content) {
    const index = new taskcluster.Index({ rootUrl: ctx.config.rootURL, credentials: ctx.credentials(), retries: 0 })
    try {
      taskId = (await withRetry(() => index.findTask(content.namespace), { retries: 3 })).taskId
    } catch (err) {
      throw new TaskFailure(`Could not find indexed task ${content.namespace}: ${(err as Error).message}`, { cause: err })
    }
  } else taskId = content.taskId
  return { key: `artifact:${taskId}:${content.artifact}`, taskId }
}

export const NATIVE_CACHES = 'generic-worker::caches'

/**
 * Writable directory caches under cachesDir: `<cachesDir>/generic-worker::caches/<id>`, with an
 * index (`index.json`: names, ages) beside them. `::` can never be in a docker-worker cache name,
 * so the docker executor's caches (`<cachesDir>/<name>/…`) and these never meet.
 */
export function directoryCachePool(cachesDir: string): CachePool {
  const root = path.join(cachesDir, NATIVE_CACHES)
  const index = path.join(root, 'index.json')
  return new CachePool({
    async load() {
      await mkdir(root, { recursive: true })
      const saved = (await readFile(index, 'utf8').then(JSON.parse, () => [])) as CacheInstance[]
      return saved.map((i) => ({ ...i, created: i.created ?? 0 }))
    },
    async save(instances) {
      await writeFile(index, JSON.stringify(instances, null, 2))
    },
    pathOf: (i) => path.join(root, i.id),
  })
}

export interface MountedCache {
  instance: CacheInstance
  target: string
  cacheName: string
  /** Outside the task directory: where in the task directory it comes back to after the task. */
  staged?: string
  mover: TaskMover
}

export interface MountStores {
  downloads: DownloadCache
  caches: CachePool
  mover: TaskMover
  /** The purge-cache requests of the worker's pool. */
  purges: PurgeRequests
}

/** Put every mount in place, in payload order; the caches mounted so far are returned even on failure. */
export async function mountAll(
  ctx: TaskContext,
  mounts: Mount[],
  stores: MountStores,
  mounted: MountedCache[],
): Promise<void> {
  const log = (line: string) => ctx.log.info(`[mounts] ${line}`)
  // caches someone asked to purge are destroyed before a task can get them
  if (mounts.some(isCache)) {
    const purged = await stores.caches.applyPurges(await stores.purges.current((m) => ctx.log.warn(`[mounts] ${m}`)))
    for (const i of purged) log(`Purged cache ${i.name}: the purge-cache service asked for it`)
  }
  for (const m of mounts) {
    try {
      await mountOne(ctx, m, stores, mounted, log)
    } catch (err) {
      ctx.log.error(`[mounts] ${(err as Error).message}`)
      throw err instanceof TaskFailure ? err : new TaskFailure((err as Error).message, { cause: err })
    }
  }
}

async function mountOne(ctx: TaskContext, m: Mount, stores: MountStores, mounted: MountedCache[], log: (l: string) => void): Promise<void> {
  const where = 'file' in m ? m.file : m.directory
  const { target, outside } = mountPlace(ctx.taskDir, where)
  // an outside mount is prepared in the task directory, then moved out with the task's rights
  const at = outside ? stagingPath(ctx.taskDir) : target
  const existing = await lstat(target).catch(() => undefined)
  if ('file' in m) {
    if (existing?.isDirectory()) throw new TaskFailure(`Cannot mount file at path ${target} since it already exists as a directory`)
    const format = m.format
    await mkdir(path.dirname(at), { recursive: true })
    await stores.downloads.with(ctx, m.content, log, (file) => (format ? decompressFile(file, at, format) : copyFile(file, at)))
    if (outside) await moveOut(stores.mover, at, target)
    log(`Mounted ${describeContent(m.content)} as file ${where}`)
    return
  }
  if (existing && !existing.isDirectory()) throw new TaskFailure(`Cannot mount directory at path ${target} since it already exists as a file`)
  if (isCache(m)) {
    const { instance, fresh } = await stores.caches.acquire(m.cacheName)
    const cache: MountedCache = { instance, target, cacheName: m.cacheName, staged: outside ? at : undefined, mover: stores.mover }
    mounted.push(cache)
    const home = stores.caches.pathOf(instance)
    if (fresh) {
      await mkdir(home, { recursive: true })
      const format = m.format
      if (m.content && format) await stores.downloads.with(ctx, m.content, log, (file) => extractArchive(file, home, format))
      log(`Created new writable cache ${m.cacheName}`)
    } else log(`Moving existing writable directory cache ${m.cacheName} into ${where}`)
    // inside, what is in the way is the task directory's own; outside, `mv` refuses to replace
    // anything but an empty directory
    if (!outside) await rm(target, { recursive: true, force: true })
    await mkdir(path.dirname(at), { recursive: true })
    await rename(home, at)
    if (outside) {
      try {
        await moveOut(stores.mover, at, target)
      } catch (err) {
        // not placed: it goes back with the others (unmountAll finds it staged)
        cache.target = at
        cache.staged = undefined
        throw err
      }
    }
    return
  }
  const format = m.format
  await stores.downloads.with(ctx, m.content, log, (file) => extractArchive(file, at, format))
  if (outside) await moveOut(stores.mover, at, target)
  log(`Unpacked ${describeContent(m.content)} (${m.format}) into ${where}`)
}

/** Move every cache back into cachesDir (or delete it: purge). A cache the task moved away fails the task. */
export async function unmountAll(caches: CachePool, mounted: MountedCache[], purge: boolean, log: TaskLog): Promise<void> {
  let missing: string | undefined
  for (const m of mounted.splice(0)) {
    // a cache outside the task directory comes back in with the task's rights first
    const from = m.staged ?? m.target
    if (m.staged) await m.mover.run(['mv', '-T', '--', m.target, m.staged]).catch(() => undefined)
    const present = (await lstat(from).catch(() => undefined))?.isDirectory() === true
    if (present && !purge) {
      await rename(from, caches.pathOf(m.instance))
      log.info(`[mounts] Preserving cache ${m.cacheName}`)
      await caches.release(m.instance, false)
    } else {
      if (purge) log.info(`[mounts] Purging cache ${m.cacheName}`)
      await caches.release(m.instance, true)
      if (!present && !purge) missing ??= m.cacheName
    }
  }
  if (missing) {
    log.error(`[mounts] Could not persist cache "${missing}": the task moved or removed its directory`)
    throw new TaskFailure(`could not persist cache "${missing}": the task moved or removed its directory`)
  }
}
