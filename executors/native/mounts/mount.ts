// generic-worker's `mounts`: files, read-only directories and writable directory caches put in
// the task directory before the commands run.
// - Content (url, artifact, indexed artifact, raw, base64) is downloaded once into downloadsDir
//   and reused by later tasks (keyed by its source); its sha256 is checked against the payload's
//   on every use, and logged when the payload gives none.
// - Writable caches live in cachesDir between tasks; a task gets an instance no other running
//   task holds (moved into the task directory, moved back after), and an instance is deleted
//   instead of kept when the run was aborted or its exit code is in onExitStatus.purgeCaches.
// Any failure while mounting fails the task (generic-worker: `failed`, not exception).

import { copyFile, lstat, mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { TaskFailure } from '../../../src/contract/errors.js'
import { CachePool } from '../../../src/lib/cache-pool.js'
import type { PurgeRequests } from '../../../src/taskcluster/purge-cache.js'
import type { TaskContext } from '../../../src/contract/task-context.js'
import { decompressFile, extractArchive } from '../../../src/lib/archives/index.js'
import { describeContent, isCache, type Mount, type MountLog } from './content.js'
import { mountPlace, moveOut, stagingPath, type TaskMover } from './places.js'
import type { DownloadCache } from './download-cache.js'
import type { MountedCache } from './caches.js'

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
  const log: MountLog = (line, level) => (level === 'warn' ? ctx.log.warn(`[mounts] ${line}`) : ctx.log.info(`[mounts] ${line}`))
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

async function mountOne(ctx: TaskContext, m: Mount, stores: MountStores, mounted: MountedCache[], log: MountLog): Promise<void> {
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
    // mounts_feature.go:828, :799
    if (fresh) {
      log(`No existing writable directory cache '${m.cacheName}' - creating ${home}`)
      await mkdir(home, { recursive: true })
      const format = m.format
      if (m.content && format) await stores.downloads.with(ctx, m.content, log, (file) => extractArchive(file, home, format))
    } else log(`Moving existing writable directory cache ${m.cacheName} from ${home} to ${target}`)
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
    // :873
    log(`Successfully mounted writable directory cache '${target}'`)
    return
  }
  const format = m.format
  await stores.downloads.with(ctx, m.content, log, (file) => extractArchive(file, at, format))
  if (outside) await moveOut(stores.mover, at, target)
  log(`Unpacked ${describeContent(m.content)} (${m.format}) into ${where}`)
}
