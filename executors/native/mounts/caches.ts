// Writable directory caches: instances live in cachesDir between tasks (generic-worker's
// indexed `generic-worker::caches`), are moved into the task directory for a task, and moved
// back after (or deleted: an aborted run, an exit code in onExitStatus.purgeCaches).

import { lstat, readFile, rename, writeFile } from 'node:fs/promises'
import { PRIVATE_FILE_MODE, privateDirectory } from '../../../src/lib/private-dir.js'
import path from 'node:path'
import { TaskFailure } from '../../../src/contract/errors.js'
import { CachePool, type CacheInstance } from '../../../src/lib/cache-pool.js'
import type { TaskLog } from '../../../src/lib/task-log.js'
import type { TaskMover } from './places.js'
import { goQuote } from '../../../src/lib/go-quote.js'
import { goTimeJson, writeCacheTable, type GoCacheEntry } from './cache-state.js'

export const NATIVE_CACHES = 'generic-worker::caches'

/**
 * Writable directory caches under cachesDir: `<cachesDir>/generic-worker::caches/<id>`, with an
 * index (`index.json`: names, ages) beside them. `::` can never be in a docker-worker cache name,
 * so the docker executor's caches (`<cachesDir>/<name>/…`) and these never meet.
 */
export function directoryCachePool(cachesDir: string, stateFile?: string): CachePool {
  const root = path.join(cachesDir, NATIVE_CACHES)
  const index = path.join(root, 'index.json')
  return new CachePool({
    async load() {
      // cachesDir and the index's directory: the worker's alone (generic-worker: 0700)
      await privateDirectory(cachesDir)
      await privateDirectory(root)
      const saved = (await readFile(index, 'utf8').then(JSON.parse, () => [])) as CacheInstance[]
      return saved.map((i) => ({ ...i, created: i.created ?? 0 }))
    },
    async save(instances) {
      // written whole, then renamed: a worker killed mid-write leaves the previous index
      await writeFile(`${index}.tmp`, JSON.stringify(instances, null, 2), { mode: PRIVATE_FILE_MODE })
      await rename(`${index}.tmp`, index)
      if (stateFile) await writeCacheTable(stateFile, directoryCacheTable(root, instances))
    },
    pathOf: (i) => path.join(root, i.id),
  })
}

/**
 * generic-worker's CacheMap: cache name → its pool entries (mounts_feature.go:52-53). An entry
 * made for a task that still holds it was never returned, so its last_used is Go's zero time
 * (newPoolEntry and ReleaseCache, mounts_feature.go:118-141).
 */
function directoryCacheTable(root: string, instances: readonly CacheInstance[]): Record<string, GoCacheEntry[]> {
  const table: Record<string, GoCacheEntry[]> = {}
  for (const i of instances) {
    const neverReturned = i.inUse && (i.hits ?? 1) <= 1
    ;(table[i.name] ??= []).push({
      created: goTimeJson(i.created || undefined),
      location: path.join(root, i.id),
      hits: i.hits ?? 1,
      key: i.name,
      sha256: '',
      in_use: i.inUse,
      last_used: goTimeJson(neverReturned ? undefined : i.lastUsed),
    })
  }
  return table
}

export interface MountedCache {
  instance: CacheInstance
  target: string
  cacheName: string
  /** Outside the task directory: where in the task directory it comes back to after the task. */
  staged?: string
  mover: TaskMover
}


/**
 * generic-worker's line saying why caches are purged, once commands ran (shouldPurgeCaches,
 * mounts_feature.go:683-701: the Mounts feature is always requested, so any task logs it).
 */
export function purgeLine(commands: { ran: boolean; aborted: boolean; exitCode?: number }, purgeCaches: readonly number[]): string | undefined {
  if (!commands.ran) return undefined
  if (commands.aborted) return 'Purging caches since the task was aborted and may have left them in an inconsistent state'
  const code = commands.exitCode
  if (code !== undefined && purgeCaches.includes(code)) return `Purging caches since last command had exit code ${code} which is listed in task.Payload.OnExitStatus.PurgeCaches array`
  return undefined
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
      // mounts_feature.go:885
      log.info(`[mounts] Preserving cache: Moving ${goQuote(m.target)} to ${goQuote(caches.pathOf(m.instance))}`)
      await rename(from, caches.pathOf(m.instance))
      await caches.release(m.instance, false)
    } else {
      await caches.release(m.instance, true)
      if (!present && !purge) missing ??= m.cacheName
    }
  }
  if (missing) {
    log.error(`[mounts] Could not persist cache "${missing}": the task moved or removed its directory`)
    throw new TaskFailure(`could not persist cache "${missing}": the task moved or removed its directory`)
  }
}
