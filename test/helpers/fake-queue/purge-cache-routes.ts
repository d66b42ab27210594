// The purge-cache service: people ask for a worker pool's cache to be purged (purgeCache);
// workers ask which requests came since they last looked (purgeRequests).
import { FakeAuth } from './auth.js'
import { route, sendJson, type Route } from './http.js'

export interface PurgeRequest {
  provisionerId: string
  workerType: string
  cacheName: string
  before: string
}

export function purgeCacheRoutes(requests: PurgeRequest[]): Route[] {
  return [
    route('purgeCache', 'POST', '/api/purge-cache/v1/purge-cache/:workerPoolId+', (r) => {
      const pool = decodeURIComponent(r.params[0]!)
      const body = r.json<{ cacheName: string }>('purge-cache/v1/purge-cache-request')
      FakeAuth.require(r.caller, `purge-cache:${pool}:${body.cacheName}`)
      const [provisionerId, workerType] = pool.split('/') as [string, string]
      requests.push({ provisionerId, workerType, cacheName: body.cacheName, before: new Date().toISOString() })
      r.res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    }),
    route('purgeRequests', 'GET', '/api/purge-cache/v1/purge-cache/:workerPoolId+', (r) => {
      const pool = decodeURIComponent(r.params[0]!)
      FakeAuth.require(r.caller, `purge-cache:purge-requests::${pool}`)
      const since = Date.parse(r.query.get('since') ?? '1970-01-01T00:00:00Z')
      const matching = requests.filter((q) => `${q.provisionerId}/${q.workerType}` === pool && Date.parse(q.before) >= since)
      sendJson(r.res, 200, { requests: matching }, 'purge-cache/v1/purge-cache-request-list')
    }),
  ]
}
