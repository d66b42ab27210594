// The rules every cache of the worker follows, whichever executor mounts it: an instance serves
// one task at a time (a busy cache gets a new instance), the most recently used free instance is
// reused, purge requests destroy instances made before them (one in use goes when its task
// ends), and when disk space runs short the least recently used free instances go first.
// Where instances live and how they are remembered is the executor's (its CacheLayout).

import { rm } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'

/** A purge-cache request: every cache of `cacheName` created before `before` is to be destroyed. */
export interface PurgeRequest {
  cacheName: string
  before: Date
}

export interface CacheInstance {
  /** Unique among the pool's instances (a directory name). */
  id: string
  name: string
  inUse: boolean
  lastUsed: number
  /** When it was made (purge requests name caches created before a time). */
  created: number
  /** A purge request came while a task held it: deleted when released. */
  doomed?: boolean
  /** How many tasks have had it (generic-worker's Cache.Hits: 1 when made, +1 per reuse). */
  hits?: number
}

/** Where an executor keeps its instances. */
export interface CacheLayout {
  /** The instances a previous worker left (none is in use any more). */
  load(): Promise<CacheInstance[]>
  /** Told after every change, with every instance (for a layout that keeps an index). */
  save(instances: readonly CacheInstance[]): Promise<void>
  pathOf(instance: CacheInstance): string
}

export class CachePool {
  /** Loaded once: two tasks acquiring at once before the first load ends must share one list. */
  private instances: Promise<CacheInstance[]> | undefined
  /** Saves run one after another: two tasks releasing at once must not interleave their writes. */
  private saving: Promise<void> = Promise.resolve()

  constructor(private readonly layout: CacheLayout) {}

  private async all(): Promise<CacheInstance[]> {
    this.instances ??= this.layout.load().then(
      (all) => all.map((i) => ({ ...i, inUse: false, doomed: undefined })),
      (err: unknown) => {
        this.instances = undefined // the next acquire tries again
        throw err
      },
    )
    return this.instances
  }

  private save(all: readonly CacheInstance[]): Promise<void> {
    const snapshot = all.map((i) => ({ ...i }))
    this.saving = this.saving.catch(() => undefined).then(() => this.layout.save(snapshot))
    return this.saving
  }

  /** Whether the pool holds any instance of any cache (docker-worker asked purge-cache only then). */
  async isEmpty(): Promise<boolean> {
    return (await this.all()).length === 0
  }

  pathOf(instance: CacheInstance): string {
    return this.layout.pathOf(instance)
  }

  /** A free instance of this cache (most recently used first), or a new one (`fresh`: nothing on disk yet). */
  async acquire(name: string): Promise<{ instance: CacheInstance; fresh: boolean }> {
    const all = await this.all()
    const free = all.filter((i) => i.name === name && !i.inUse).sort((a, b) => b.lastUsed - a.lastUsed)[0]
    let fresh = false
    let instance = free
    if (!instance) {
      instance = { id: randomUUID(), name, inUse: false, lastUsed: Date.now(), created: Date.now() }
      all.push(instance)
      fresh = true
    }
    instance.inUse = true
    instance.hits = fresh ? 1 : (instance.hits ?? 1) + 1
    await this.save(all)
    return { instance, fresh }
  }

  /** Destroy the instances purge requests name; returns those destroyed now. */
  async applyPurges(requests: readonly PurgeRequest[]): Promise<CacheInstance[]> {
    const all = await this.all()
    const purged: CacheInstance[] = []
    for (const i of [...all]) {
      if (!requests.some((r) => r.cacheName === i.name && r.before.getTime() > i.created)) continue
      if (i.inUse) {
        i.doomed = true
        continue
      }
      await this.destroy(all, i)
      purged.push(i)
    }
    await this.save(all)
    return purged
  }

  /** Delete instances no task holds, least recently used first, until `enough()`. */
  async evict(enough: () => Promise<boolean>, onEvicted: (instance: CacheInstance) => void): Promise<void> {
    const all = await this.all()
    for (const i of all.filter((x) => !x.inUse).sort((a, b) => a.lastUsed - b.lastUsed)) {
      if (await enough()) return
      await this.destroy(all, i)
      await this.save(all)
      onEvicted(i)
    }
  }

  /** Keep the instance for later tasks, or delete it (purge, or a purge request came meanwhile). */
  async release(instance: CacheInstance, purge: boolean): Promise<void> {
    const all = await this.all()
    instance.inUse = false
    instance.lastUsed = Date.now()
    if (purge || instance.doomed) await this.destroy(all, instance)
    await this.save(all)
  }

  private async destroy(all: CacheInstance[], instance: CacheInstance): Promise<void> {
    const at = all.indexOf(instance)
    if (at >= 0) all.splice(at, 1)
    await rm(this.layout.pathOf(instance), { recursive: true, force: true })
  }
}
