// Mount content downloaded once into downloadsDir and reused by later tasks (keyed by its
// source); its sha256 is checked against the payload's on every use, and logged when the
// payload gives none. Downloads a task is using are pinned against eviction.

import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { PRIVATE_FILE_MODE, privateDirectory } from '../../../src/lib/private-dir.js'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { TaskFailure } from '../../../src/contract/errors.js'
import { sha256File } from '../../../src/lib/sha256.js'
import { artifactDownloadRetry, withRetry } from '../../../src/taskcluster/retry.js'
import type { TaskContext } from '../../../src/contract/task-context.js'
import { contentCacheKey, describeContent, type Content, type MountLog } from './content.js'
import { goTimeJson, writeCacheTable, type GoCacheEntry } from './cache-state.js'

interface Downloaded {
  file: string
  sha256: string
  size: number
  lastUsed: number
  /** generic-worker's fields for file-caches.json (entries of older indexes lack them). */
  created?: number
  hits?: number
  cacheKey?: string
}

/** Downloaded content under downloadsDir, by source; one download per source at a time. */
export class DownloadCache {
  private index: Record<string, Downloaded> | undefined
  private readonly inFlight = new Map<string, Promise<Downloaded>>()
  /** Downloads tasks are using now, by key, with how many uses: never evicted. */
  private readonly pinned = new Map<string, number>()

  /** `stateFile`: also write generic-worker's file-caches.json there (cache-state.ts). */
  constructor(
    private readonly dir: string,
    private readonly stateFile?: string,
  ) {}

  private async load(): Promise<Record<string, Downloaded>> {
    if (this.index) return this.index
    await privateDirectory(this.dir)
    try {
      this.index = JSON.parse(await readFile(path.join(this.dir, 'index.json'), 'utf8')) as Record<string, Downloaded>
    } catch {
      this.index = {}
    }
    return this.index
  }

  private async save(): Promise<void> {
    await writeFile(path.join(this.dir, 'index.json'), JSON.stringify(this.index, null, 2), { mode: PRIVATE_FILE_MODE })
    if (this.stateFile) await writeCacheTable(this.stateFile, fileCacheTable(this.index ?? {}))
  }

  /**
   * Runs `use` with a local file holding the content's bytes (never to be modified: mounts copy
   * or unpack it). The download is not evicted while `use` runs: garbage collection before
   * another claim may run while this task still unpacks it.
   */
  async with<T>(ctx: TaskContext, content: Content, log: MountLog, use: (file: string) => Promise<T>): Promise<T> {
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

  private async fetch(ctx: TaskContext, content: Content, source: { key: string; taskId?: string }, log: MountLog): Promise<Downloaded> {
    const index = await this.load()
    const { key, taskId } = source
    const wanted = 'sha256' in content ? content.sha256 : undefined
    const known = index[key]
    if (known) {
      // generic-worker checks a cached download again on every use
      const actual = await sha256File(known.file).then((f) => f.sha256, () => undefined)
      const cacheKey = contentCacheKey(content, taskId)
      if (actual && (!wanted || actual === wanted)) {
        known.lastUsed = Date.now()
        known.hits = (known.hits ?? 1) + 1 // mounts_feature.go:985
        await this.save()
        // mounts_feature.go:1004, :1008
        if (!wanted) log(`No SHA256 specified in task mounts for ${cacheKey} - SHA256 from downloaded file ${known.file} is ${actual}.`, 'warn')
        else log(`Found existing download for ${cacheKey} (${known.file}) with correct SHA256 ${actual}`)
        return known
      }
      // :1011
      if (actual && wanted) log(`Found existing download of ${cacheKey} (${known.file}) with SHA256 ${actual} but task definition explicitly requires ${wanted} so deleting it`)
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
      // mounts_feature.go:1069
      throw new TaskFailure(`Download ${done.file} of ${describeContent(content)} has SHA256 ${done.sha256} but task definition explicitly requires ${wanted}; not retrying download as there were no connection failures and HTTP response status code was 200`)
    }
    // :1065, :1082
    if (!wanted) log(`Download ${done.file} of ${describeContent(content)} has SHA256 ${done.sha256} but task payload does not declare a required value, so content authenticity cannot be verified`, 'warn')
    else log(`Content from ${describeContent(content)} (${done.file}) matches required SHA256 ${done.sha256}`)
    index[key] = { ...done, created: Date.now(), hits: 1, cacheKey: contentCacheKey(content, taskId) }
    await this.save()
    return done
  }

  /** Delete cached downloads, least recently used first, until `enough()`; none being downloaded or used. */
  async evict(enough: () => Promise<boolean>, log: MountLog): Promise<void> {
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

  private async download(ctx: TaskContext, content: Content, taskId: string | undefined, log: MountLog): Promise<Downloaded> {
    const file = path.join(this.dir, randomUUID())
    if ('raw' in content || 'base64' in content) {
      const bytes = 'raw' in content ? Buffer.from(content.raw, 'utf8') : Buffer.from(content.base64, 'base64')
      await writeFile(file, bytes, { mode: PRIVATE_FILE_MODE })
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
      const out = createWriteStream(file, { mode: PRIVATE_FILE_MODE })
      written = finished(out)
      meter.pipe(out)
      return meter
    }
    try {
      if ('url' in content) {
        await withRetry(async () => {
          // mounts_feature.go:1347: once per attempt, URL content only (artifacts have no such line)
          log(`Downloading ${describeContent(content)} to ${file}`)
          const res = await fetch(content.url, { signal: ctx.signal })
          if (!res.ok || !res.body) throw Object.assign(new Error(`GET ${content.url} answered ${res.status}`), { statusCode: res.status })
          await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), sink())
          await written
        }, { retries: 3, signal: ctx.signal })
      } else {
        const { default: taskcluster, downloadArtifact } = await import('taskcluster-client') // loaded on first use, not by an idle worker
        const queue = new taskcluster.Queue({ rootUrl: ctx.config.rootURL, credentials: ctx.credentials(), retries: 0 })
        await downloadArtifact({ taskId: taskId!, name: content.artifact, queue, ...artifactDownloadRetry, streamFactory: async () => sink() })
        await written
      }
    } catch (err) {
      await rm(file, { force: true })
      throw new TaskFailure(`Could not fetch ${describeContent(content)}: ${(err as Error).message}`, { cause: err })
    }
    const sha256 = hash.digest('hex')
    // mounts_feature.go:1384 (URL content) and :1263 (artifact content)
    log(`Downloaded ${size} bytes with SHA256 ${sha256} from ${describeContent(content)} to ${file}`)
    return { file, sha256, size, lastUsed: Date.now() }
  }
}

/**
 * generic-worker's FileCacheMap: its cache key → the downloaded file, hit once per download
 * and once per reuse; it never records a last use (mounts_feature.go:1041-1050).
 */
function fileCacheTable(index: Record<string, Downloaded>): Record<string, GoCacheEntry> {
  return Object.fromEntries(
    Object.entries(index).map(([key, d]) => [
      d.cacheKey ?? key,
      { created: goTimeJson(d.created ?? d.lastUsed), location: d.file, hits: d.hits ?? 1, key: d.cacheKey ?? key, sha256: d.sha256, in_use: false, last_used: goTimeJson(undefined) },
    ]),
  )
}

/** The download cache key of a content source; indexed content resolves to its task. */
async function sourceKey(ctx: TaskContext, content: Content): Promise<{ key: string; taskId?: string }> {
  if ('url' in content) return { key: `urlcontent:${content.url}` }
  if ('raw' in content) return { key: `raw:${createHash('sha256').update(content.raw).digest('hex')}` }
  if ('base64' in content) return { key: `base64:${createHash('sha256').update(content.base64).digest('hex')}` }
  let taskId: string
  if ('namespace' in content) {
    const { default: taskcluster } = await import('taskcluster-client') // loaded on first use, not by an idle worker
    const index = new taskcluster.Index({ rootUrl: ctx.config.rootURL, credentials: ctx.credentials(), retries: 0 })
    try {
      taskId = (await withRetry(() => index.findTask(content.namespace), { retries: 3 })).taskId
    } catch (err) {
      throw new TaskFailure(`Could not find indexed task ${content.namespace}: ${(err as Error).message}`, { cause: err })
    }
  } else taskId = content.taskId
  return { key: `artifact:${taskId}:${content.artifact}`, taskId }
}
