// A worker crash reported to Sentry, as generic-worker reports its panics (sentry.go:9-31, called
// by HandleCrash, main.go:389-397): no report without a `sentryProject` (default
// `generic-worker`, main.go:290); a DSN from the Auth service's sentryDSN with the worker's own
// credentials (scope `auth:sentry:<project>`); then one event sent to it the way raven-go v0.2.0
// (go.mod) sends one, and waited for (CapturePanicAndWait).
//
// The event is raven-go's packet (client.go Packet, Init, JSON, serializedPacket; exception.go):
// message, a 32-hex event_id, the DSN's project, a UTC timestamp with hundredths, level `error`, logger `root`, server_name the host name, the worker's debug facts as
// tags (the same facts the error-report carries), and an `exception` with the stack. What is
// Go's alone is said as Node's: platform `node`, the frames V8 gives, and `runtime.Version` /
// `runtime.NumCPU` in `extra` (raven's GOMAXPROCS and NumGoroutine have no counterpart).

import { randomUUID } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import { availableParallelism, hostname } from 'node:os'
import { deflateSync } from 'node:zlib'
import type { Logger } from 'pino'
import type { Credentials } from '../contract/taskcluster.js'
import { apiRequest } from '../taskcluster/api-request.js'

/** How long a crash report may hold the worker's exit: the DSN, then the event. */
const REPORT_TIMEOUT_MS = 30_000

export interface SentryReport {
  rootUrl: string
  credentials: Credentials
  project: string
  /** The worker's debug facts (debugInfo), sent as the event's tags. */
  tags: Record<string, string>
  logger: Logger
}

interface SentryDsnResponse {
  project: string
  dsn: { secret: string; public: string }
  expires: string
}

/** raven's SetDSN (client.go): the store URL and the X-Sentry-Auth header of a DSN. */
export function parseDsn(dsn: string): { storeUrl: string; authHeader: string; projectId: string } {
  const url = new URL(dsn)
  if (!url.username) throw new Error('raven: dsn missing public key and/or password')
  const publicKey = decodeURIComponent(url.username)
  const secretKey = url.password ? decodeURIComponent(url.password) : undefined
  url.username = ''
  url.password = ''
  const slash = url.pathname.lastIndexOf('/')
  const projectId = url.pathname.slice(slash + 1)
  if (!projectId) throw new Error('raven: dsn missing project id')
  url.pathname = `${url.pathname.slice(0, slash + 1)}api/${projectId}/store/`
  const authHeader = secretKey === undefined ? `Sentry sentry_version=4, sentry_key=${publicKey}` : `Sentry sentry_version=4, sentry_key=${publicKey}, sentry_secret=${secretKey}`
  return { storeUrl: url.toString(), authHeader, projectId }
}

interface Frame {
  function?: string
  filename?: string
  abs_path?: string
  lineno?: number
  colno?: number
  in_app: boolean
}

/** V8's stack lines as Sentry frames, oldest call first as Sentry wants them. */
function framesOf(stack: string | undefined): Frame[] {
  const frames: Frame[] = []
  for (const line of (stack ?? '').split('\n')) {
    const m = /^\s+at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line)
    if (!m) continue
    const file = m[2]!.replace(/^file:\/\//, '')
    frames.push({
      ...(m[1] ? { function: m[1] } : {}),
      filename: file.split('/').pop(),
      abs_path: file,
      lineno: Number(m[3]),
      colno: Number(m[4]),
      in_app: !file.startsWith('node:') && !file.includes('/node_modules/'),
    })
  }
  return frames.reverse()
}

/** The event raven-go builds for a recovered panic (CapturePanicAndWait, Packet.Init, NewException). */
export function sentryEvent(err: unknown, projectId: string, tags: Record<string, string>, now = new Date()): Record<string, unknown> {
  const message = err instanceof Error ? err.message : String(err)
  const frames = framesOf(err instanceof Error ? err.stack : undefined)
  // exception.go: a message `word: rest` names its module
  const split = /^(\w+): ([\s\S]+)$/.exec(message)
  const culprit = [...frames].reverse().find((f) => f.in_app && f.function)?.function
  const iso = now.toISOString() // client.go timestampFormat "2006-01-02T15:04:05.00", UTC
  return {
    message,
    event_id: randomUUID().replace(/-/g, ''),
    project: projectId,
    timestamp: `${iso.slice(0, 19)}.${iso.slice(20, 22)}`,
    level: 'error',
    logger: 'root',
    platform: 'node',
    ...(culprit ? { culprit } : {}),
    server_name: hostname(),
    tags: Object.entries(tags),
    extra: { 'runtime.Version': process.version, 'runtime.NumCPU': availableParallelism() },
    exception: {
      value: split ? split[2] : message,
      type: err instanceof Error ? err.name : typeof err,
      ...(split ? { module: split[1] } : {}),
      ...(frames.length > 0 ? { stacktrace: { frames } } : {}),
    },
  }
}

/** raven's serializedPacket (client.go:953-971): JSON, or over 1000 bytes base64 of its zlib (BestCompression). */
export function serializeEvent(event: Record<string, unknown>): { body: Buffer; contentType: string } {
  const json = Buffer.from(JSON.stringify(event))
  if (json.length <= 1000) return { body: json, contentType: 'application/json' }
  return { body: Buffer.from(deflateSync(json, { level: 9 }).toString('base64')), contentType: 'application/octet-stream' }
}

function post(storeUrl: string, authHeader: string, payload: { body: Buffer; contentType: string }, signal: AbortSignal): Promise<void> {
  const url = new URL(storeUrl)
  const request = url.protocol === 'https:' ? https.request : http.request
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', signal, headers: { 'X-Sentry-Auth': authHeader, 'User-Agent': 'megalodon', 'Content-Type': payload.contentType, 'Content-Length': payload.body.length } },
      (res) => {
        res.resume()
        res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`raven: got http status ${res.statusCode} - x-sentry-error: ${String(res.headers['x-sentry-error'] ?? '')}`))))
        res.once('error', reject)
      },
    )
    req.once('error', reject)
    req.end(payload.body)
  })
}

/** Reports `err`; never throws, and gives up after REPORT_TIMEOUT_MS. */
export async function reportCrashToSentry(err: unknown, report: SentryReport): Promise<void> {
  const { logger } = report
  if (report.project === '') {
    logger.info('No sentry project defined, not reporting to sentry')
    return
  }
  const signal = AbortSignal.timeout(REPORT_TIMEOUT_MS)
  let dsn: SentryDsnResponse
  try {
    dsn = (await apiRequest({ rootUrl: report.rootUrl, service: 'auth', method: 'GET', path: `/sentry/${encodeURIComponent(report.project)}/dsn`, credentials: report.credentials, timeoutMs: REPORT_TIMEOUT_MS, signal })) as SentryDsnResponse
  } catch (e) {
    logger.warn(`WARNING: Could not get sentry DSN: ${(e as Error).message}`)
    return
  }
  try {
    const { storeUrl, authHeader, projectId } = parseDsn(dsn.dsn.secret)
    await post(storeUrl, authHeader, serializeEvent(sentryEvent(err, projectId, report.tags)), signal)
  } catch (e) {
    // sentry.go ignores what CapturePanicAndWait returns; the worker's own log says it
    logger.warn({ err: e }, 'could not report the crash to sentry')
  }
}
