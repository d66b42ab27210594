// The purge-cache service, as both legacy workers use it: before a task mounts caches, ask for
// the purge requests of this worker pool made since the last look (less five minutes, for
// clock skew), and destroy every cache of a named cache created before a request's `before`.
// The service being unreachable is a warning, never a task failure.

import taskcluster from 'taskcluster-client'
import type { WorkerConfig } from '../config/config.js'
import type { PurgeRequest } from '../lib/cache-pool.js'

export class PurgeRequests {
  private lastQuery: Date | undefined
  private known: PurgeRequest[] = []

  constructor(private readonly config: WorkerConfig) {}

  /** Every request seen so far (a request applies to caches created before it, whenever they are next used). */
  async current(warn: (message: string) => void): Promise<PurgeRequest[]> {
    const c = this.config
    const client = new taskcluster.PurgeCache({
      rootUrl: c.rootURL,
      // the worker's own credentials (replaced in place when worker-runner renews them)
      credentials: { clientId: c.clientId, accessToken: c.accessToken, ...(c.certificate ? { certificate: c.certificate } : {}) },
      retries: 2,
    })
    const asked = new Date()
    try {
      const since = this.lastQuery ? new Date(this.lastQuery.getTime() - 5 * 60_000).toISOString() : undefined
      const { requests } = await client.purgeRequests(`${c.provisionerId}/${c.workerType}`, since ? { since } : {})
      for (const r of requests) {
        const before = new Date(r.before)
        if (!this.known.some((k) => k.cacheName === r.cacheName && k.before.getTime() === before.getTime())) this.known.push({ cacheName: r.cacheName, before })
      }
      this.lastQuery = asked
    } catch (err) {
      warn(`Could not reach the purge-cache service, caches are used as they are: ${(err as Error).message}`)
    }
    return this.known
  }
}

const byConfig = new WeakMap<WorkerConfig, PurgeRequests>()
/** One tracker per worker (its config object). */
export function purgeRequestsFor(config: WorkerConfig): PurgeRequests {
  return byConfig.get(config) ?? byConfig.set(config, new PurgeRequests(config)).get(config)!
}
