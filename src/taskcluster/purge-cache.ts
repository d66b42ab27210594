// The purge-cache service, as both legacy workers use it: before a task mounts caches, ask for
// the purge requests of this worker pool made since the last look (less five minutes, for
// clock skew), and destroy every cache of a named cache created before a request's `before`.
// The service being unreachable is a warning, never a task failure.

import type { WorkerConfig } from '../config/config.js'
import type { PurgeRequest } from '../lib/cache-pool.js'
import type { Credentials, WorkerCredentials } from '../contract/taskcluster.js'
import { configCredentials } from './credentials.js'

export class PurgeRequests {
  private lastQuery: Date | undefined
  private known: PurgeRequest[] = []

  constructor(
    private readonly config: WorkerConfig,
    /** The worker's current credentials (they change when worker-runner renews them). */
    private readonly credentials: () => Credentials,
  ) {}

  /** Every request seen so far (a request applies to caches created before it, whenever they are next used). */
  async current(warn: (message: string) => void): Promise<PurgeRequest[]> {
    const c = this.config
    // taskcluster-client only when a cache is first used (an idle worker does without it)
    const { default: taskcluster } = await import('taskcluster-client')
    const client = new taskcluster.PurgeCache({
      rootUrl: c.rootURL,
      credentials: this.credentials(),
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

/**
 * The purge requests an executor follows, one tracker per deployment and worker pool, asked with
 * the worker's live credentials (or, with none given, those its config names).
 */
export function purgeTrackers(credentials?: WorkerCredentials): (config: WorkerConfig) => PurgeRequests {
  const trackers = new Map<string, PurgeRequests>()
  return (config) => {
    const key = `${config.rootURL}\0${config.provisionerId}/${config.workerType}`
    let tracker = trackers.get(key)
    if (!tracker) trackers.set(key, (tracker = new PurgeRequests(config, () => credentials?.current() ?? configCredentials(config))))
    return tracker
  }
}
