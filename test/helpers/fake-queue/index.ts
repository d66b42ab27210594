// A fake Taskcluster Queue + Object service on 127.0.0.1 for integration tests: real routes,
// Hawk auth with scopes, request and reply schema checks, the Queue's state rules. Tests can
// create and cancel tasks, inject faults, and read back everything uploaded.

import http, { type Server } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { gunzipSync, gzipSync } from 'node:zlib'
import taskcluster from 'taskcluster-client'
import type { TaskDefinition } from '../../../src/contract/taskcluster.js'
import { FakeAuth, HttpError } from './auth.js'
import { authRoutes, type SentryEvent } from './auth-routes.js'
import { FAKE_WEBSOCKTUNNEL_SECRET } from '../fake-websocktunnel.js'
import { parseJson, readBody, route, sendError, sendJson, type Route } from './http.js'
import { objectRoutes } from './object-routes.js'
import { queueRoutes } from './queue-routes.js'
import { QueueState, type StoredArtifact } from './state.js'
import { seededRandom } from './random.js'
import { purgeCacheRoutes, type PurgeRequest } from './purge-cache-routes.js'
import { workerManagerRoutes, type TerminateAnswer, type WorkerManagerSettings } from './worker-manager-routes.js'

export interface Fault {
  /** taskcluster-client method name, e.g. 'claimWork', 'reportCompleted', 's3Put'. */
  method: string
  /** Reply with this status (default 500)… */
  status?: number
  /** …or drop the connection. */
  reset?: boolean
  /** Delay before handling (or failing) the request. */
  delayMs?: number
  /** How many requests to hit (default 1). */
  times?: number
}

export interface RecordedRequest {
  method: string
  clientId: string
  status: number
  params: string[]
  /** Milliseconds from the request's arrival to the end of the reply. */
  ms: number
  /** When it arrived (performance.now() of this process). */
  at: number
}

/** Random faults on every endpoint, reproducible from the seed. */
export interface RandomFaults {
  seed: number
  /** Probability that a request is hit (0–1). */
  rate: number
}

export { seededRandom }

export interface FakeQueueOptions {
  /** Seconds a claim lasts (the real Queue: 1200). Default 1200. */
  claimTimeoutSecs?: number
  /** How long claimWork long-polls when nothing is pending (the real Queue: 20 s). Default 1000 ms. */
  claimWaitMs?: number
  randomFaults?: RandomFaults
  /**
   * Also serve over HTTPS with this certificate, and hand out https putUrls: docker-worker
   * uploads artifacts with https.request whatever the putUrl says (docker-worker
   * src/upload_to_s3.js). The API itself stays on http.
   */
  tls?: { cert: string; key: string }
  /**
   * putUrls point here instead (`<putBaseUrl>/_s3/<taskId>/<runId>/<name>`): the upload bench's
   * sink, in its own process, so the bytes are not received on the worker's event loop.
   */
  putBaseUrl?: string
}

/**
 * How long an idle connection stays open: the real services' default, 90 s
 * (taskcluster libraries/app/src/index.js:158-166). Node's client keeps a connection only while
 * the server's announced timeout has more than a second left (http.Agent
 * agentKeepAliveTimeoutBuffer), so the 1 s the fake once used made every request a new
 * connection. stop() closes them all.
 */
const SERVICE_KEEP_ALIVE_MS = 90_000

export const WORKER = { clientId: 'worker/test', accessToken: 'worker-secret-token-0123456789' }
export const ADMIN = { clientId: 'admin/test', accessToken: 'admin-secret-token-0123456789' }

export class FakeQueue {
  readonly state = new QueueState()
  readonly auth = new FakeAuth()
  readonly requests: RecordedRequest[] = []
  private readonly faults: Array<Fault & { left: number }> = []
  private readonly routes: Route[]
  private readonly random: (() => number) | undefined
  private readonly faultRate: number
  /** Faults injected at random, by kind (for the test's report). */
  readonly randomFaultCounts: Record<string, number> = {}
  private server: Server | undefined
  private tlsServer: Server | undefined
  private readonly tls: { cert: string; key: string } | undefined
  private readonly putBaseUrlOverride: string | undefined
  claimTimeoutSecs: number
  /** Artifact content (the /_s3 data plane) is sent in ten pieces this far apart (default: at once). */
  downloadPieceDelayMs = 0
  claimWaitMs: number
  /** The Index: namespace → taskId (findTask). */
  readonly index = new Map<string, string>()
  /** Requests made to the purge-cache service. */
  readonly purgeRequests: PurgeRequest[] = []
  /** Set to serve worker-manager's registerWorker/reregisterWorker (static provider). */
  workerManager: WorkerManagerSettings | undefined
  /** The secret websocktunnelToken signs with (a FakeWebsocktunnel's, to reach one). */
  websocktunnelSecret = FAKE_WEBSOCKTUNNEL_SECRET
  /** Events posted to the Sentry store that sentryDSN's DSNs point at. */
  readonly sentryEvents: SentryEvent[] = []
  /** Set to serve worker-manager's shouldWorkerTerminate: the answer to each call. */
  shouldTerminate: TerminateAnswer | undefined

  constructor(options: FakeQueueOptions = {}) {
    this.claimTimeoutSecs = options.claimTimeoutSecs ?? 1200
    this.claimWaitMs = options.claimWaitMs ?? 1000
    this.random = options.randomFaults ? seededRandom(options.randomFaults.seed) : undefined
    this.faultRate = options.randomFaults?.rate ?? 0
    this.tls = options.tls
    this.putBaseUrlOverride = options.putBaseUrl
    const baseUrl = () => this.rootUrl
    this.routes = [
      ...queueRoutes({ state: this.state, auth: this.auth, baseUrl, putBaseUrl: () => this.putBaseUrl, claimTimeoutSecs: () => this.claimTimeoutSecs, claimWaitMs: () => this.claimWaitMs }),
      ...objectRoutes(this.state, baseUrl, () => this.downloadPieceDelayMs),
      ...workerManagerRoutes(this.auth, () => this.workerManager, new Map(), () => this.shouldTerminate),
      ...purgeCacheRoutes(this.purgeRequests),
      ...authRoutes(this.auth.roles, { events: this.sentryEvents, baseUrl }, () => this.websocktunnelSecret),
      route('findTask', 'GET', '/api/index/v1/task/:namespace', (r) => {
        const taskId = this.index.get(decodeURIComponent(r.params[0]!))
        if (!taskId) throw new HttpError(404, 'ResourceNotFound', `nothing indexed at ${r.params[0]}`)
        sendJson(r.res, 200, { namespace: decodeURIComponent(r.params[0]!), taskId, rank: 0, data: {}, expires: new Date(Date.now() + 86400_000).toISOString() }, 'index/v1/indexed-task-response')
      }),
    ]
    this.auth.addClient(ADMIN.clientId, ADMIN.accessToken, ['*'])
  }

  /** A worker client allowed to claim from this pool as this worker, and nothing else. */
  addWorker(taskQueueId: string, workerGroup: string, workerId: string, creds = WORKER): void {
    this.auth.addClient(creds.clientId, creds.accessToken, [
      `queue:claim-work:${taskQueueId}`,
      `queue:worker-id:${workerGroup}/${workerId}`,
      `purge-cache:purge-requests::${taskQueueId}`,
      `worker-manager:should-worker-terminate:${taskQueueId}/${workerGroup}/${workerId}`,
      'auth:expand-scopes',
    ])
  }

  get rootUrl(): string {
    const addr = this.server?.address() as AddressInfo | undefined
    if (!addr) throw new Error('fake queue not started')
    return `http://127.0.0.1:${addr.port}`
  }

  /** Where putUrls point: the HTTPS listener when there is one. */
  get putBaseUrl(): string {
    if (this.putBaseUrlOverride) return this.putBaseUrlOverride
    const addr = this.tlsServer?.address() as AddressInfo | undefined
    return addr ? `https://127.0.0.1:${addr.port}` : this.rootUrl
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res))
    this.server.keepAliveTimeout = SERVICE_KEEP_ALIVE_MS
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    if (this.tls) {
      this.tlsServer = https.createServer(this.tls, (req, res) => void this.handle(req, res))
      this.tlsServer.keepAliveTimeout = SERVICE_KEEP_ALIVE_MS
      await new Promise<void>((resolve) => this.tlsServer!.listen(0, '127.0.0.1', resolve))
    }
    return this
  }

  async stop(): Promise<void> {
    for (const server of [this.server, this.tlsServer]) {
      server?.closeAllConnections()
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    }
  }

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 })
  }

  /** createTask through the real route, as a scheduler would (fills in defaults). */
  async createTask(taskId: string, task: Partial<TaskDefinition> & { payload: unknown }): Promise<void> {
    const now = Date.now()
    const full = {
      taskQueueId: 'test-provisioner/test-worker-type',
      schedulerId: 'test-scheduler',
      projectId: 'none',
      taskGroupId: taskId,
      dependencies: [],
      requires: 'all-completed',
      routes: [],
      priority: 'lowest',
      retries: 5,
      created: new Date(now).toISOString(),
      deadline: new Date(now + 3600_000).toISOString(),
      expires: new Date(now + 7 * 24 * 3600_000).toISOString(),
      scopes: [],
      metadata: { name: 'test task', description: 'a test task', owner: 'tests@example.com', source: 'https://example.com/tests' },
      tags: {},
      extra: {},
      ...task,
    }
    const queue = new taskcluster.Queue({ rootUrl: this.rootUrl, credentials: ADMIN, retries: 0 })
    await (queue as unknown as { createTask(id: string, t: unknown): Promise<unknown> }).createTask(taskId, full)
  }

  /** A completed task holding one s3 artifact with these bytes (an image tarball, say). */
  async seedArtifact(name: string, body: Buffer, contentType = 'application/octet-stream'): Promise<string> {
    const taskId = taskcluster.slugid()
    await this.createTask(taskId, { payload: {} })
    const record = this.state.get(taskId)
    const run = record.runs[0]!
    Object.assign(run, { state: 'completed', reasonResolved: 'completed', started: new Date().toISOString(), resolved: new Date().toISOString() })
    record.artifacts[0]!.set(name, { name, storageType: 's3', contentType, expires: record.task.expires, body, contentEncoding: 'identity', contentLength: body.length, present: true })
    return taskId
  }

  /**
   * "Production history": a task whose run a legacy worker already resolved, with the artifacts
   * (s3, stored gzip-encoded when asked, or error artifacts) and backing log it left.
   */
  async seedHistory(history: {
    taskId: string
    task: Partial<TaskDefinition> & { payload: unknown }
    state: 'completed' | 'failed' | 'exception'
    reasonResolved?: string
    workerGroup?: string
    workerId?: string
    artifacts: Array<{ name: string; content?: Buffer | string; contentType?: string; gzip?: boolean; error?: { reason: string; message: string }; link?: string }>
  }): Promise<void> {
    await this.createTask(history.taskId, history.task)
    const record = this.state.get(history.taskId)
    const run = record.runs[0]!
    const workerGroup = history.workerGroup ?? 'legacy-group'
    const workerId = history.workerId ?? 'legacy-worker'
    const at = new Date().toISOString()
    Object.assign(run, { state: history.state, reasonResolved: history.reasonResolved ?? history.state, workerGroup, workerId, started: at, resolved: at })
    this.state.noteWorkerRun(record.task.taskQueueId!, workerGroup, workerId, history.taskId, 0)
    for (const a of history.artifacts) {
      const expires = record.task.expires
      if (a.link) {
        record.artifacts[0]!.set(a.name, { name: a.name, storageType: 'link', expires, artifact: a.link, contentType: a.contentType, present: true })
        continue
      }
      if (a.error) {
        record.artifacts[0]!.set(a.name, { name: a.name, storageType: 'error', expires, reason: a.error.reason, message: a.error.message, present: true })
        continue
      }
      const raw = Buffer.from(a.content ?? '')
      const body = a.gzip ? gzipSync(raw) : raw
      record.artifacts[0]!.set(a.name, { name: a.name, storageType: 's3', contentType: a.contentType ?? 'application/octet-stream', expires, body, contentEncoding: a.gzip ? 'gzip' : 'identity', contentLength: body.length, present: true })
    }
  }

  /** Ask the purge-cache service to purge a cache of a worker pool, as a person would. */
  async purgeCache(workerPoolId: string, cacheName: string): Promise<void> {
    const client = new taskcluster.PurgeCache({ rootUrl: this.rootUrl, credentials: ADMIN, retries: 0 })
    await client.purgeCache(workerPoolId, { cacheName })
  }

  /** Cancel a task as a user would: its running run resolves exception/canceled. */
  async cancelTask(taskId: string): Promise<void> {
    const queue = new taskcluster.Queue({ rootUrl: this.rootUrl, credentials: ADMIN, retries: 0 })
    await (queue as unknown as { cancelTask(id: string): Promise<unknown> }).cancelTask(taskId)
  }

  status(taskId: string) {
    return this.state.status(this.state.get(taskId)) as { state: string; runs: Array<{ state: string; reasonResolved?: string; reasonCreated: string }> }
  }

  /** The artifacts of a run, with their decoded content. */
  artifacts(taskId: string, runId = 0): Map<string, StoredArtifact & { content?: Buffer }> {
    const out = new Map<string, StoredArtifact & { content?: Buffer }>()
    for (const [name, a] of this.state.get(taskId).artifacts[runId] ?? []) {
      const raw = a.storageType === 'object' ? this.state.objects.get(a.objectName!)?.body : a.body
      const content = raw && a.contentEncoding === 'gzip' ? gunzipSync(raw) : raw
      out.set(name, { ...a, content })
    }
    return out
  }

  /** Wait until a task's run reaches a resolved state (or the timeout passes). */
  async waitForResolution(taskId: string, runId = 0, timeoutMs = 30_000): Promise<{ state: string; reasonResolved?: string }> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const run = this.state.get(taskId).runs[runId]
      if (run && !['pending', 'running'].includes(run.state)) return run
      if (Date.now() > until) throw new Error(`task ${taskId} run ${runId} still ${run?.state} after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /** Test-harness calls (createTask, cancelTask) are never hit: the system under test is the worker. */
  private randomFault(method: string): (Fault & { left: number }) | undefined {
    if (!this.random || method === 'createTask' || method === 'cancelTask' || this.random() >= this.faultRate) return undefined
    const kinds: Fault[] = [{ method, status: 500 }, { method, status: 503 }, { method, reset: true }, { method, delayMs: 300, status: 502 }, { method, reset: true, delayMs: 200 }]
    const fault = kinds[Math.floor(this.random() * kinds.length)]!
    const kind = fault.reset ? 'reset' : `${fault.status}`
    this.randomFaultCounts[kind] = (this.randomFaultCounts[kind] ?? 0) + 1
    return { ...fault, left: 1 }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const found = this.routes.map((r) => ({ r, m: r.method === req.method ? r.pattern.exec(url.pathname) : null })).find((x) => x.m)
    const arrived = performance.now()
    const record: RecordedRequest = { method: found?.r.name ?? `${req.method} ${url.pathname}`, clientId: '-', status: 0, params: found?.m?.slice(1) ?? [], ms: 0, at: arrived }
    this.requests.push(record)
    res.once('finish', () => {
      record.status = res.statusCode
      record.ms = performance.now() - arrived
    })
    try {
      const body = await readBody(req)
      if (!found) throw new HttpError(404, 'ResourceNotFound', `no route for ${req.method} ${url.pathname}`)
      const fault = this.faults.find((f) => f.method === found.r.name && f.left > 0) ?? this.randomFault(found.r.name)
      if (fault) {
        fault.left--
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs))
        if (fault.reset) return void req.socket.destroy()
        if (fault.status !== undefined || !fault.delayMs) throw new HttpError(fault.status ?? 500, 'InjectedFault', 'fault injected by the test')
      }
      const dataPlane = url.pathname.startsWith('/_')
      const caller = dataPlane ? { clientId: 'data-plane', scopes: [] } : await this.auth.authenticate(req)
      record.clientId = caller.clientId
      await found.r.handler({ req, res, params: found.m!.slice(1), query: url.searchParams, caller, body, json: (schema) => parseJson(body, schema) })
    } catch (err) {
      sendError(res, err)
    }
  }
}
