// Images docker-worker removed by itself (src/gc.js:28-48,142-222): each task's image is marked
// with an expiry two hours after its last use (garbageCollection.imageExpiration, config.yml:86-92).
// Between tasks, while none runs, expired marked images that no container uses are removed; when
// the disk runs short, every marked image no container uses. Only marked images: never one the
// operator put on the host, nor one this worker has not used since it started.

import type { DockerEngine } from './engine.js'

/** docker-worker's default garbageCollection.imageExpiration (config.yml:88). */
export const IMAGE_EXPIRATION_MS = 2 * 60 * 60 * 1000

export class ImageCollector {
  /** image id → when it expires (ms since the epoch) */
  private readonly marked = new Map<string, number>()

  constructor(private readonly expirationMs = IMAGE_EXPIRATION_MS) {}

  /** A task is using the image (src/task.js:841 marked it once the task had it). */
  mark(imageId: string): void {
    this.marked.set(imageId, Date.now() + this.expirationMs)
  }

  /**
   * Removes the marked images no container uses: the expired ones, or all with `all` (the disk is
   * short: src/gc.js:142-151). An image the engine will not remove stays marked (a later sweep
   * tries again); one it no longer has is forgotten.
   */
  async sweep(engine: DockerEngine, all: boolean, log: (message: string) => void): Promise<void> {
    const now = Date.now()
    const due = [...this.marked].filter(([, expires]) => all || expires <= now).map(([id]) => id)
    if (due.length === 0) return
    const inUse = await engine.containers.imageIds()
    for (const id of due) {
      if (inUse.has(id)) continue
      try {
        await engine.images.remove(id)
        this.marked.delete(id)
        log(`image ${id} removed: ${all ? 'the disk is short and no container uses it' : `no task has used it for ${Math.round(this.expirationMs / 60_000)} minutes`}`)
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) this.marked.delete(id)
        else log(`image ${id} could not be removed: ${(err as Error).message}`)
      }
    }
  }
}
