// docker-worker's volume caches: host directories `<cachesDir>/<name>/<instance>` bind-mounted
// into the container. The pool's rules (src/lib/cache-pool.ts) decide which instance a task gets;
// instances of a task whose exit code is in onExitStatus.purgeCaches are deleted instead of kept.

import { TaskFailure } from '../../src/contract/errors.js'
import { mkdir, readdir, stat } from 'node:fs/promises'
import { privateDirectory } from '../../src/lib/private-dir.js'
import path from 'node:path'
import { CachePool, type CacheInstance, type PurgeRequest } from '../../src/lib/cache-pool.js'

export interface MountedCache {
  name: string
  mountPoint: string
  instance: CacheInstance
  /** The host directory bind-mounted at mountPoint. */
  dir: string
}

/** The instances are the directories themselves: a restarted worker finds them there (their last use forgotten). */
function dockerCacheLayout(cachesDir: string) {
  return {
    async load(): Promise<CacheInstance[]> {
      // cachesDir is the worker's alone: on a worker that also runs multiuser native tasks, no
      // task user may reach a docker cache (security audit H4: a setuid-root binary a container
      // left there; M2: its contents). generic-worker makes cachesDir 0700 (src/lib/private-dir.ts).
      await privateDirectory(cachesDir)
      const instances: CacheInstance[] = []
      for (const name of await readdir(cachesDir).catch(() => [] as string[])) {
        // `::` is never in a docker-worker cache name: such a directory is another executor's
        if (name.includes('::')) continue
        for (const id of await readdir(path.join(cachesDir, name)).catch(() => [] as string[])) {
          const st = await stat(path.join(cachesDir, name, id)).catch(() => undefined)
          instances.push({ id, name, inUse: false, lastUsed: 0, created: st ? st.birthtimeMs || st.mtimeMs : 0 })
        }
      }
      return instances
    },
    save: async () => undefined,
    pathOf: (i: CacheInstance) => path.join(cachesDir, i.name, i.id),
  }
}

export class CacheManager {
  private readonly pool: CachePool

  constructor(cachesDir: string) {
    this.pool = new CachePool(dockerCacheLayout(cachesDir))
  }

  /** Takes an instance of each cache, handing each to `onAcquired` the moment it is held (so it is released whatever follows). */
  async acquire(cache: Record<string, string>, onAcquired: (mounted: MountedCache) => void): Promise<void> {
    for (const [name, mountPoint] of Object.entries(cache)) {
      // docker-worker's volume cache refused its key delimiter in a name; the task failed
      // (src/volume_cache.js:8,146-149, container_volume_caching_test.js:380)
      if (name.includes('::')) throw new TaskFailure('Invalid key name was provided.  Ensure that the cache name does not contain "::".')
      if (name.includes('/') || name === '.' || name === '..') throw new Error(`invalid cache name "${name}"`)
      const { instance, fresh } = await this.pool.acquire(name)
      const dir = this.pool.pathOf(instance)
      onAcquired({ name, mountPoint, instance, dir })
      if (fresh) await mkdir(dir, { recursive: true })
    }
  }

  /** Whether no instance of any cache exists (in this process's memory or on disk). */
  async isEmpty(): Promise<boolean> {
    return this.pool.isEmpty()
  }

  /** Destroy the instances purge requests name (created before the request); one in use goes when released. */
  async applyPurges(requests: readonly PurgeRequest[]): Promise<void> {
    await this.pool.applyPurges(requests)
  }

  /** Delete instances no task holds, least recently used first, until `enough()`. */
  async evict(enough: () => Promise<boolean>, log: (message: string) => void): Promise<void> {
    await this.pool.evict(enough, (i) => log(`evicted docker cache instance ${i.name} (${this.pool.pathOf(i)})`))
  }

  async release(mounted: MountedCache[], purge: boolean): Promise<void> {
    for (const m of mounted) await this.pool.release(m.instance, purge)
  }
}
