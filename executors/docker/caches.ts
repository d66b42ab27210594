// docker-worker's volume caches: host directories `<cachesDir>/<name>/<instance>` bind-mounted
// into the container. An instance serves one task at a time (a busy cache gets a new, empty
// instance), the most recently used free instance is reused, and instances of a task whose
// exit code is in onExitStatus.purgeCaches are deleted instead of kept.

import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { randomUUID } from 'node:crypto'

interface Instance {
  dir: string
  inUse: boolean
  lastUsed: number
  /** When it was made (purge requests name caches created before a time). */
  created: number
  /** A purge request came while a task held it: deleted when released. */
  doomed?: boolean
}

export interface MountedCache {
  name: string
  mountPoint: string
  instance: Instance
}

export class CacheManager {
  private readonly instances = new Map<string, Instance[]>()
  private loaded = false

  constructor(private readonly cachesDir: string) {}

  /** Instances left by an earlier worker on this host are kept and reused. */
  private async load(): Promise<void> {
    if (this.loaded) return
    this.loaded = true
    for (const name of await readdir(this.cachesDir).catch(() => [] as string[])) {
      // `::` is never in a docker-worker cache name: such a directory is another executor's
      if (name.includes('::')) continue
      const ids = await readdir(path.join(this.cachesDir, name)).catch(() => [] as string[])
      const instances: Instance[] = []
      for (const id of ids) {
        const dir = path.join(this.cachesDir, name, id)
        const st = await stat(dir).catch(() => undefined)
        instances.push({ dir, inUse: false, lastUsed: 0, created: st ? st.birthtimeMs || st.mtimeMs : 0 })
      }
      this.instances.set(name, instances)
    }
  }

  async acquire(cache: Record<string, string>): Promise<MountedCache[]> {
    await this.load()
    const mounted: MountedCache[] = []
    for (const [name, mountPoint] of Object.entries(cache)) {
      if (name.includes('::') || name.includes('/') || name === '.' || name === '..') throw new Error(`invalid cache name "${name}"`)
      const list = this.instances.get(name) ?? []
      this.instances.set(name, list)
      let instance = list.filter((i) => !i.inUse).sort((a, b) => b.lastUsed - a.lastUsed)[0]
      if (!instance) {
        instance = { dir: path.join(this.cachesDir, name, randomUUID()), inUse: false, lastUsed: 0, created: Date.now() }
        await mkdir(instance.dir, { recursive: true })
        list.push(instance)
      }
      instance.inUse = true
      mounted.push({ name, mountPoint, instance })
    }
    return mounted
  }

  /** Destroy the instances purge requests name (created before the request); one in use goes when released. */
  async applyPurges(requests: ReadonlyArray<{ cacheName: string; before: Date }>): Promise<void> {
    await this.load()
    for (const [name, list] of this.instances) {
      for (const i of [...list]) {
        if (!requests.some((r) => r.cacheName === name && r.before.getTime() > i.created)) continue
        if (i.inUse) {
          i.doomed = true
          continue
        }
        list.splice(list.indexOf(i), 1)
        await rm(i.dir, { recursive: true, force: true })
      }
    }
  }

  /** Delete instances no task holds, least recently used first, until `enough()`. */
  async evict(enough: () => Promise<boolean>, log: (message: string) => void): Promise<void> {
    await this.load()
    const free = [...this.instances.entries()].flatMap(([name, list]) => list.filter((i) => !i.inUse).map((i) => ({ name, list, i })))
    for (const { name, list, i } of free.sort((a, b) => a.i.lastUsed - b.i.lastUsed)) {
      if (await enough()) return
      list.splice(list.indexOf(i), 1)
      await rm(i.dir, { recursive: true, force: true })
      log(`evicted docker cache instance ${name} (${i.dir})`)
    }
  }

  async release(mounted: MountedCache[], purge: boolean): Promise<void> {
    for (const m of mounted) {
      m.instance.inUse = false
      m.instance.lastUsed = Date.now()
      if (purge || m.instance.doomed) {
        const list = this.instances.get(m.name) ?? []
        list.splice(list.indexOf(m.instance), 1)
        await rm(m.instance.dir, { recursive: true, force: true })
      }
    }
  }
}
