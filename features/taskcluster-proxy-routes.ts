// What taskcluster-proxy answers, as upstream's proxy does (tools/taskcluster-proxy/routes.go):
// the routes by path prefix, the headers on every answer, the target of an API path, and the
// forwarding with retries. The feature (taskcluster-proxy.ts) owns the listener and credentials.

import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import Hawk from 'hawk'
import type { Credentials } from '../src/contract/taskcluster.js'
import { projectPath } from '../src/lib/paths.js'

/** routes.go:87-99 dispatches on these prefixes of the request URL, in this order. */
export type Route = 'bewit' | 'credentials' | 'api' | 'root'
export function routeOf(url: string): Route {
  if (url.startsWith('/bewit')) return 'bewit'
  if (url.startsWith('/credentials')) return 'credentials'
  if (url.startsWith('/api')) return 'api'
  return 'root'
}

export type Target = { url: string } | { notFound: string }

const HOSTNAME = /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/

/** taskcluster-lib-urls' API(): `<rootURL>/api/<service>/<version>/<path without leading />`. */
function apiUrl(rootUrl: string, service: string, version: string, rest: string): string {
  return `${rootUrl.replace(/\/+$/, '')}/api/${service}/${version}/${rest.replace(/^\/+/, '')}`
}

/**
 * Where an API path goes. `/api/<service>/<version>/<path>` (routes.go:186-215: any service and
 * version, else 404 `invalid /api path`); any other path is the legacy `/<service>/<version>/<path>`
 * of a service named like a hostname (taskcluster/services.go:23-68, else 404 `Unkown taskcluster
 * service: …`). Upstream sends a dotted service name to `https://<name>/`; megalodon proxies to
 * the deployment's rootURL only, so such a name is 404 too.
 */
export function targetUrl(rootUrl: string, pathAndQuery: string): Target {
  const q = pathAndQuery.indexOf('?')
  const rawPath = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q)
  const query = q === -1 || q === pathAndQuery.length - 1 ? '' : pathAndQuery.slice(q)
  if (routeOf(pathAndQuery) === 'api') {
    const m = /^\/api\/([^/]*)\/([^/]*)\/(.*)$/.exec(rawPath)
    return m ? { url: apiUrl(rootUrl, m[1]!, m[2]!, m[3]! + query) } : { notFound: 'invalid /api path' }
  }
  const [service = '', version, ...rest] = rawPath.replace(/^\//, '').split('/')
  if (!HOSTNAME.test(service)) return { notFound: `Unkown taskcluster service: ${service} is not a valid taskcluster service` }
  if (service.includes('.')) return { notFound: `taskcluster-proxy: only the deployment's rootURL is proxied, not ${service}` }
  // `/<service>/<version>` with nothing after it makes upstream's slicing panic: no answer there
  if (version === undefined || rest.length === 0) return { notFound: `Unkown taskcluster service: no API path after ${rawPath}` }
  return { url: apiUrl(rootUrl, service, version, rest.join('/') + query) }
}

/** The Hawk `ext` taskcluster-client sends: the certificate of temporary credentials, and authorizedScopes. */
export function hawkExt(credentials: Credentials, authorizedScopes?: string[]): string | undefined {
  const ext: Record<string, unknown> = {}
  if (credentials.certificate) ext.certificate = JSON.parse(credentials.certificate)
  if (authorizedScopes) ext.authorizedScopes = authorizedScopes
  return Object.keys(ext).length ? Buffer.from(JSON.stringify(ext)).toString('base64') : undefined
}

/** Go's json.Marshal of a value: `<`, `>` and `&` escaped. */
const goJson = (v: unknown) => JSON.stringify(v).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

const VERSION = (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version

/**
 * The headers routes.go:54-84 sets on every answer: the proxy's version and revision (megalodon's
 * version; upstream's revision is empty unless set at build time), who signs (permanent client
 * id, or temporary client id and the certificate's scopes) and the authorized scopes. A
 * certificate that does not parse is upstream's 500.
 */
export function proxyHeaders(c: Credentials, authorizedScopes: string[]): Record<string, string> | { invalid: string } {
  const headers: Record<string, string> = { 'X-Taskcluster-Proxy-Version': VERSION, 'X-Taskcluster-Proxy-Revision': '' }
  if (c.certificate) {
    let cert: { scopes?: unknown }
    try {
      cert = JSON.parse(c.certificate) as { scopes?: unknown }
    } catch (err) {
      return { invalid: `Taskcluster Proxy has invalid certificate: ${c.clientId}\n${(err as Error).message}` }
    }
    headers['X-Taskcluster-Proxy-Temp-ClientId'] = c.clientId
    headers['X-Taskcluster-Proxy-Temp-Scopes'] = goJson(cert.scopes ?? null)
  } else {
    headers['X-Taskcluster-Proxy-Perm-ClientId'] = c.clientId
  }
  headers['X-Taskcluster-Authorized-Scopes'] = goJson(authorizedScopes)
  return headers
}

/**
 * Retries after the first attempt, and the first delay (doubling, with jitter). Upstream retries
 * 5xx answers and connection errors with github.com/taskcluster/httpbackoff (routes.go:268),
 * whose schedule is not in the mirror; this is taskcluster-client's count and start.
 */
const RETRIES = 5
const FIRST_DELAY_MS = 100

export interface Forward {
  method: string
  target: string
  headers: IncomingHttpHeaders
  body: Buffer
  /** Signs one attempt (a fresh Authorization header each time, as routes.go:255-260). */
  sign: (target: string, method: string) => string
  signal: AbortSignal
}

/**
 * Sends the buffered request, retrying 5xx answers and connection errors; resolves with the last
 * answer (a 5xx after the last retry is passed back, routes.go:283-291), or rejects with the last
 * connection error. Redirects are passed back, never followed (routes.go:39-44).
 */
export async function forward(f: Forward): Promise<IncomingMessage> {
  for (let attempt = 0; ; attempt++) {
    let answer: IncomingMessage | undefined
    let failure: unknown
    try {
      answer = await send(f)
    } catch (err) {
      failure = err
    }
    const retryable = failure !== undefined || (answer!.statusCode ?? 0) >= 500
    if (!retryable || attempt >= RETRIES || f.signal.aborted) {
      if (answer) return answer
      throw failure
    }
    answer?.resume()
    const delay = FIRST_DELAY_MS * 2 ** attempt
    await sleep(delay / 2 + Math.random() * delay, undefined, { signal: f.signal })
  }
}

function send(f: Forward): Promise<IncomingMessage> {
  const url = new URL(f.target)
  const headers: IncomingHttpHeaders = { ...f.headers, authorization: f.sign(f.target, f.method), host: url.host, 'content-length': String(f.body.length) }
  delete headers['transfer-encoding']
  delete headers.connection
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: f.method, headers, signal: f.signal })
    req.once('response', resolve)
    req.once('error', reject)
    req.end(f.body)
  })
}

/** A bewit-signed URL valid for an hour (routes.go:101-134). */
export function bewitUrl(url: string, credentials: { id: string; key: string; algorithm: 'sha256' }, ext: string | undefined): string {
  const bewit = Hawk.client.getBewit(url, { credentials, ext, ttlSec: 3600 })
  return `${url}${url.includes('?') ? '&' : '?'}bewit=${bewit}`
}
