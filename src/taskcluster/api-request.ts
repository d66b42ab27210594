// One signed request to a Taskcluster API, made as taskcluster-client makes it: the URL
// `<rootUrl>/api/<service>/<version>/<path>`, a Hawk `Authorization` header (sha256, with the
// temporary credentials' certificate in `ext`), a JSON body, no redirects followed, and an error
// that carries the HTTP status and the service's error `code`. The worker's idle loop (claimWork)
// needs only this: taskcluster-client, with got and lodash behind it, costs an idle worker about
// 25 MiB more than this module with hawk (issue #18, `bench/imports.ts`), so it is loaded only
// where its other services are used.

import Hawk from 'hawk'
import http from 'node:http'
import type { Credentials } from '../contract/taskcluster.js'

/** Response bodies above this are refused: a worker's calls answer far less (a claim of 32 tasks). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024

export class TaskclusterApiError extends Error {
  constructor(
    readonly statusCode: number,
    /** The service's error code (`RequestConflict`, `InsufficientScopes`…), or `UnknownError`. */
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message)
    this.name = 'TaskclusterApiError'
  }
}

export interface ApiRequest {
  rootUrl: string
  service: string
  version?: string
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** The route with its parameters already encoded (`encodeURIComponent`, as taskcluster-client does). */
  path: string
  credentials?: Credentials
  body?: unknown
  timeoutMs: number
  signal?: AbortSignal
}

/** `<rootUrl>/api/<service>/<version>/<path>`, as taskcluster-lib-urls builds it. */
export function apiUrl(rootUrl: string, service: string, version: string, path: string): string {
  return `${rootUrl.replace(/\/+$/, '')}/api/${service}/${version}/${path.replace(/^\/+/, '')}`
}

/** The Hawk `ext` taskcluster-client sends: the certificate of temporary credentials. */
function hawkExt(credentials: Credentials): string | undefined {
  if (!credentials.certificate) return undefined
  const certificate: unknown = typeof credentials.certificate === 'string' ? JSON.parse(credentials.certificate) : credentials.certificate
  return Buffer.from(JSON.stringify({ certificate })).toString('base64')
}

const agents = new Map<string, http.Agent>()

async function agentFor(protocol: string): Promise<{ request: typeof http.request; agent: http.Agent }> {
  // https is loaded only when a root URL needs it (loopback tests and local fakes do not).
  const mod = protocol === 'https:' ? (await import('node:https')).default : http
  let agent = agents.get(protocol)
  if (!agent) agents.set(protocol, (agent = new mod.Agent({ keepAlive: true })))
  return { request: mod.request, agent }
}

/** Make the request; resolves with the parsed JSON body (undefined when there is none). */
export async function apiRequest(req: ApiRequest): Promise<unknown> {
  const url = apiUrl(req.rootUrl, req.service, req.version ?? 'v1', req.path)
  const headers: Record<string, string> = { accept: 'application/json' }
  const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body))
  if (body) {
    headers['content-type'] = 'application/json'
    headers['content-length'] = String(body.length)
  }
  const creds = req.credentials
  if (creds?.clientId && creds.accessToken) {
    headers.authorization = Hawk.client.header(url, req.method, {
      credentials: { id: creds.clientId, key: creds.accessToken, algorithm: 'sha256' },
      ext: hawkExt(creds),
    }).header
  }
  const { request, agent } = await agentFor(new URL(url).protocol)
  const { status, contentType, text } = await new Promise<{ status: number; contentType: string; text: string }>((resolve, reject) => {
    const r = request(url, { method: req.method, headers, agent, timeout: req.timeoutMs, signal: req.signal }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_RESPONSE_BYTES) res.destroy(new Error(`${req.method} ${url}: the response exceeds ${MAX_RESPONSE_BYTES} bytes`))
        else chunks.push(chunk)
      })
      res.on('error', reject)
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }))
    })
    r.on('timeout', () => r.destroy(Object.assign(new Error(`${req.method} ${url}: no answer within ${req.timeoutMs} ms`), { code: 'ECONNABORTED' })))
    r.on('error', reject)
    r.end(body)
  })
  const parsed: unknown = text.length > 0 && contentType.startsWith('application/json') ? JSON.parse(text) : undefined
  if (status >= 200 && status < 300) return parsed
  const info = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { code?: unknown; message?: unknown }
  const fallback = status === 401 ? 'Authentication Error' : status === 500 ? 'Internal Server Error' : status >= 300 && status < 400 ? 'Unexpected Redirect' : 'Unknown Server Error'
  throw new TaskclusterApiError(status, typeof info.code === 'string' ? info.code : 'UnknownError', typeof info.message === 'string' ? info.message : fallback, parsed)
}
