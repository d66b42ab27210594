// The worker-facing Queue API, with the real service's state rules and scopes.

import type { TaskDefinition } from '../../../src/contract/taskcluster.js'
import { FakeAuth, HttpError } from './auth.js'
import { route, sendJson, type Route } from './http.js'
import { taskQueueIdOf, type QueueState, type StoredArtifact, type TaskRecord } from './state.js'

export interface QueueRouteContext {
  state: QueueState
  auth: FakeAuth
  baseUrl: () => string
  /** Where putUrls point (an HTTPS listener, when the fake has one). */
  putBaseUrl: () => string
  claimTimeoutSecs: () => number
  claimWaitMs: () => number
}

const slugidOf = (a: StoredArtifact) => a.uploadId ?? 'unknown'
const ARTIFACT_NAME = /^[\x20-\x7e]+$/

const runningRun = (record: TaskRecord, runId: number) => {
  const run = record.runs[runId]
  if (!run) throw new HttpError(404, 'ResourceNotFound', `run ${runId} not found`)
  return run
}

function taskCredentials(ctx: QueueRouteContext, record: TaskRecord, runId: number, workerGroup: string, workerId: string, takenUntil: Date) {
  const { taskId } = record
  const clientId = `task-client/${taskId}/${runId}/on/${workerGroup}/${workerId}/until/${Math.floor(takenUntil.getTime() / 1000)}`
  const scopes = [`queue:reclaim-task:${taskId}/${runId}`, `queue:resolve-task:${taskId}/${runId}`, `queue:create-artifact:${taskId}/${runId}`, ...record.task.scopes]
  return ctx.auth.issueTemporary(clientId, scopes, takenUntil)
}

export function queueRoutes(ctx: QueueRouteContext): Route[] {
  const { state } = ctx
  /** The artifact-content reply (links followed, as the Queue does). */
  const artifactContent = (record: TaskRecord, runId: number, name: string, hops = 0): Record<string, unknown> => {
    const a = record.artifacts[runId]?.get(name)
    if (!a || !a.present) throw new HttpError(404, 'ResourceNotFound', `artifact ${name} not found`)
    switch (a.storageType) {
      case 'link':
        if (hops > 5) throw new HttpError(400, 'InputError', 'too many links')
        return artifactContent(record, runId, a.artifact!, hops + 1)
      case 'reference':
        return { storageType: 'reference', url: a.url }
      case 'error':
        return { storageType: 'error', reason: a.reason, message: a.message }
      case 'object': {
        const credentials = ctx.auth.issueTemporary(`object-download/${slugidOf(a)}`, [`object:download:${a.objectName}`], new Date(Date.now() + 3600_000))
        return { storageType: 'object', name: a.objectName, credentials }
      }
      default:
        return { storageType: 's3', url: `${ctx.baseUrl()}/_s3/${record.taskId}/${runId}/${encodeURIComponent(name)}` }
    }
  }
  const latestRun = (record: TaskRecord) => record.runs.length - 1
  const claimRun = (record: TaskRecord, workerGroup: string, workerId: string) => {
    const run = record.runs.at(-1)!
    const takenUntil = new Date(Date.now() + ctx.claimTimeoutSecs() * 1000)
    Object.assign(run, { state: 'running', workerGroup, workerId, takenUntil: takenUntil.toISOString(), started: new Date().toISOString() })
    state.noteWorkerRun(taskQueueIdOf(record.task), workerGroup, workerId, record.taskId, run.runId)
    return {
      status: state.status(record),
      runId: run.runId,
      workerGroup,
      workerId,
      takenUntil: takenUntil.toISOString(),
      task: record.task,
      credentials: taskCredentials(ctx, record, run.runId, workerGroup, workerId, takenUntil),
    }
  }
  const resolveRoute = (name: string, suffix: string, target: 'completed' | 'failed' | 'exception') =>
    route(name, 'POST', `/api/queue/v1/task/:taskId/runs/:runId/${suffix}`, (r) => {
      const [taskId, runIdText] = r.params as [string, string]
      const runId = Number(runIdText)
      FakeAuth.require(r.caller, `queue:resolve-task:${taskId}/${runId}`)
      const reason = target === 'exception' ? r.json<{ reason: string }>('queue/v1/task-exception-request').reason : target
      const record = state.get(taskId)
      const run = runningRun(record, runId)
      if (run.state !== 'running') {
        if (run.state === target && run.reasonResolved === reason) return sendJson(r.res, 200, { status: state.status(record) }, 'queue/v1/task-status-response')
        throw new HttpError(409, 'RequestConflict', `run ${runId} of ${taskId} is ${run.state}/${run.reasonResolved}, not running`)
      }
      state.resolveRun(record, run, target, reason)
      sendJson(r.res, 200, { status: state.status(record) }, 'queue/v1/task-status-response')
    })

  return [
    route('createTask', 'PUT', '/api/queue/v1/task/:taskId', (r) => {
      const [taskId] = r.params as [string]
      const task = r.json<TaskDefinition>('queue/v1/create-task-request')
      FakeAuth.require(r.caller, `queue:create-task:${task.priority ?? 'lowest'}:${taskQueueIdOf(task)}`)
      const record = state.create(taskId, { retries: 5, ...task } as TaskDefinition)
      sendJson(r.res, 200, { status: state.status(record) }, 'queue/v1/task-status-response')
    }),
    route('task', 'GET', '/api/queue/v1/task/:taskId', (r) => {
      FakeAuth.require(r.caller, `queue:get-task:${r.params[0]}`)
      sendJson(r.res, 200, state.get(r.params[0]!).task, 'queue/v1/task')
    }),
    route('status', 'GET', '/api/queue/v1/task/:taskId/status', (r) => {
      FakeAuth.require(r.caller, `queue:status:${r.params[0]}`)
      sendJson(r.res, 200, { status: state.status(state.get(r.params[0]!)) }, 'queue/v1/task-status-response')
    }),
    route('listTaskGroup', 'GET', '/api/queue/v1/task-group/:taskGroupId/list', (r) => {
      const groupId = r.params[0]!
      FakeAuth.require(r.caller, `queue:list-task-group:${groupId}`)
      const members = [...state.tasks.values()].filter((t) => t.task.taskGroupId === groupId)
      const first = members[0]?.task
      sendJson(
        r.res,
        200,
        { taskGroupId: groupId, schedulerId: first?.schedulerId ?? '-', expires: first?.expires ?? new Date().toISOString(), tasks: members.map((t) => ({ status: state.status(t), task: t.task })) },
        'queue/v1/list-task-group-response',
      )
    }),
    route('listWorkers', 'GET', '/api/queue/v1/provisioners/:provisionerId/worker-types/:workerType/workers', (r) => {
      const [p, w] = r.params as [string, string]
      FakeAuth.require(r.caller, `queue:list-workers:${p}/${w}`)
      const workers = state.workersOf(`${p}/${w}`).map((k) => ({ workerGroup: k.workerGroup, workerId: k.workerId, firstClaim: k.firstClaim }))
      sendJson(r.res, 200, { workers }, 'queue/v1/list-workers-response')
    }),
    route('getWorker', 'GET', '/api/queue/v1/provisioners/:provisionerId/worker-types/:workerType/workers/:workerGroup/:workerId', (r) => {
      const [p, w, g, id] = r.params as [string, string, string, string]
      FakeAuth.require(r.caller, `queue:get-worker:${p}/${w}/${g}/${id}`)
      const k = state.workersOf(`${p}/${w}`).find((x) => x.workerGroup === g && x.workerId === id)
      if (!k) throw new HttpError(404, 'ResourceNotFound', `worker ${g}/${id} not found`)
      sendJson(
        r.res,
        200,
        { provisionerId: p, workerType: w, taskQueueId: `${p}/${w}`, workerGroup: g, workerId: id, recentTasks: k.recentTasks.slice(-20), expires: new Date(Date.now() + 86400_000).toISOString(), firstClaim: k.firstClaim },
        'queue/v1/worker-response',
      )
    }),
    route('cancelTask', 'POST', '/api/queue/v1/task/:taskId/cancel', (r) => {
      const [taskId] = r.params as [string]
      FakeAuth.require(r.caller, `queue:cancel-task:${taskId}`)
      const record = state.get(taskId)
      const run = record.runs.at(-1)
      if (run && (run.state === 'running' || run.state === 'pending')) state.resolveRun(record, run, 'exception', 'canceled')
      sendJson(r.res, 200, { status: state.status(record) }, 'queue/v1/task-status-response')
    }),
    route('claimWork', 'POST', '/api/queue/v1/claim-work/:taskQueueId+', async (r) => {
      // taskcluster-client sends the '/' of the task queue id escaped; the real route accepts both.
      const taskQueueId = decodeURIComponent(r.params[0]!)
      const body = r.json<{ workerGroup: string; workerId: string; tasks: number }>('queue/v1/claim-work-request')
      FakeAuth.require(r.caller, `queue:claim-work:${taskQueueId}`, `queue:worker-id:${body.workerGroup}/${body.workerId}`)
      const deadline = Date.now() + ctx.claimWaitMs()
      // A client that hangs up during the long poll claims nothing (as in the real Queue).
      let gone = false
      r.res.once('close', () => (gone = !r.res.writableEnded))
      let pending = state.pendingFor(taskQueueId)
      while (pending.length === 0 && Date.now() < deadline && !gone) {
        await new Promise((res) => setTimeout(res, 25))
        pending = state.pendingFor(taskQueueId)
      }
      const tasks = gone ? [] : pending.slice(0, body.tasks).map((rec) => claimRun(rec, body.workerGroup, body.workerId))
      sendJson(r.res, 200, { tasks }, 'queue/v1/claim-work-response')
    }),
    route('reclaimTask', 'POST', '/api/queue/v1/task/:taskId/runs/:runId/reclaim', (r) => {
      const [taskId, runIdText] = r.params as [string, string]
      const runId = Number(runIdText)
      FakeAuth.require(r.caller, `queue:reclaim-task:${taskId}/${runId}`)
      const record = state.get(taskId)
      const run = runningRun(record, runId)
      if (run.state !== 'running' || runId !== record.runs.length - 1 || Date.parse(record.task.deadline) < Date.now()) {
        throw new HttpError(409, 'RequestConflict', `run ${runId} of ${taskId} is not running`)
      }
      const takenUntil = new Date(Date.now() + ctx.claimTimeoutSecs() * 1000)
      run.takenUntil = takenUntil.toISOString()
      const reply = {
        status: state.status(record),
        runId,
        workerGroup: run.workerGroup!,
        workerId: run.workerId!,
        takenUntil: run.takenUntil,
        credentials: taskCredentials(ctx, record, runId, run.workerGroup!, run.workerId!, takenUntil),
      }
      sendJson(r.res, 200, reply, 'queue/v1/task-reclaim-response')
    }),
    resolveRoute('reportCompleted', 'completed', 'completed'),
    resolveRoute('reportFailed', 'failed', 'failed'),
    resolveRoute('reportException', 'exception', 'exception'),
    route('listArtifacts', 'GET', '/api/queue/v1/task/:taskId/runs/:runId/artifacts', (r) => {
      const record = state.get(r.params[0]!)
      const artifacts = [...(record.artifacts[Number(r.params[1])] ?? new Map<string, StoredArtifact>()).values()]
      sendJson(r.res, 200, { artifacts: artifacts.map((a) => ({ storageType: a.storageType, name: a.name, expires: a.expires, contentType: a.contentType ?? 'application/octet-stream' })) }, 'queue/v1/list-artifacts-response')
    }),
    route('createArtifact', 'POST', '/api/queue/v1/task/:taskId/runs/:runId/artifacts/:name+', (r) => {
      const [taskId, runIdText, rawName] = r.params as [string, string, string]
      const runId = Number(runIdText)
      const name = decodeURIComponent(rawName)
      // the Queue's route parameter rule: names are printable ASCII (services/queue/src/api.js:142)
      if (!ARTIFACT_NAME.test(name)) throw new HttpError(400, 'InvalidRequestArguments', `artifact name ${JSON.stringify(name)} does not match ${ARTIFACT_NAME}`)
      FakeAuth.require(r.caller, `queue:create-artifact:${taskId}/${runId}`)
      const body = r.json<Record<string, string | number>>('queue/v1/post-artifact-request')
      const record = state.get(taskId)
      const run = runningRun(record, runId)
      if (!state.acceptsArtifacts(run)) throw new HttpError(409, 'RequestConflict', `run ${runId} of ${taskId} is ${run.state}: no artifacts accepted`)
      const expires = String(body.expires)
      if (Date.parse(expires) > Date.parse(record.task.expires)) throw new HttpError(400, 'InputError', `artifact expires after the task (${record.task.expires})`)
      if (Date.parse(expires) < Date.now()) throw new HttpError(400, 'InputError', 'artifact expires in the past')
      const storageType = body.storageType as StoredArtifact['storageType']
      const base: StoredArtifact = { name, storageType, expires, present: storageType !== 's3' && storageType !== 'object' }
      if (body.contentType !== undefined) base.contentType = String(body.contentType)
      if (storageType === 'reference') base.url = String(body.url)
      if (storageType === 'link') {
        base.artifact = String(body.artifact)
        if (!record.artifacts[runId]!.has(base.artifact)) throw new HttpError(400, 'InputError', `link target ${base.artifact} does not exist`)
      }
      if (storageType === 'error') Object.assign(base, { reason: String(body.reason), message: String(body.message) })
      if (storageType === 's3' || storageType === 'object') base.contentLength = body.contentLength as number | undefined
      const stored = state.putArtifact(record, runId, base)
      const expiresIso = new Date(expires).toISOString()
      if (storageType === 's3') {
        const putUrl = `${ctx.putBaseUrl()}/_s3/${taskId}/${runId}/${encodeURIComponent(name)}`
        return sendJson(r.res, 200, { storageType, putUrl, expires: expiresIso, contentType: stored.contentType }, 'queue/v1/post-artifact-response')
      }
      if (storageType === 'object') {
        const objectName = `t/${taskId}/${runId}/${name}`
        const projectId = record.task.projectId ?? 'none'
        const obj = stored.uploadId ? state.objects.get(objectName)! : state.newObject(objectName, projectId, expiresIso)
        stored.uploadId = obj.uploadId
        stored.objectName = objectName
        const credentials = ctx.auth.issueTemporary(`object-upload/${obj.uploadId}`, [`object:upload:${projectId}:${objectName}`], new Date(Date.now() + 3600_000))
        return sendJson(r.res, 200, { storageType, name: objectName, projectId, uploadId: obj.uploadId, expires: expiresIso, credentials }, 'queue/v1/post-artifact-response')
      }
      sendJson(r.res, 200, { storageType }, 'queue/v1/post-artifact-response')
    }),
    route('finishArtifact', 'PUT', '/api/queue/v1/task/:taskId/runs/:runId/artifacts/:name+', (r) => {
      const [taskId, runIdText, rawName] = r.params as [string, string, string]
      const runId = Number(runIdText)
      FakeAuth.require(r.caller, `queue:create-artifact:${taskId}/${runId}`)
      const { uploadId } = r.json<{ uploadId: string }>('queue/v1/finish-artifact-request')
      const artifact = state.get(taskId).artifacts[runId]?.get(decodeURIComponent(rawName))
      if (!artifact || artifact.storageType !== 'object') throw new HttpError(404, 'ResourceNotFound', 'no such object artifact')
      if (artifact.uploadId !== uploadId) throw new HttpError(400, 'InputError', 'uploadId does not match')
      const obj = state.objects.get(artifact.objectName!)
      if (!obj?.finished) throw new HttpError(400, 'InputError', 'the object upload is not finished')
      // The real Queue (taskcluster 106.0.0) answers 500 here for an object artifact created with
      // contentLength: the artifact-created message it publishes fails its own schema
      // (services/queue/schemas/v1/artifact-created-message.yml, additionalProperties: false).
      if (artifact.contentLength !== undefined) throw new HttpError(500, 'InternalServerError', 'artifact-created-message: data/artifact must NOT have additional properties: "contentLength"')
      artifact.present = true
      // the real Queue answers 204, no body (found by test/deployment/fidelity.deployment.ts)
      r.res.writeHead(204).end()
    }),
    route('artifact', 'GET', '/api/queue/v1/task/:taskId/runs/:runId/artifact-content/:name+', (r) => {
      const name = decodeURIComponent(r.params[2]!)
      FakeAuth.require(r.caller, `queue:get-artifact:${name}`)
      sendJson(r.res, 200, artifactContent(state.get(r.params[0]!), Number(r.params[1]), name), 'queue/v1/artifact-content-response')
    }),
    route('latestArtifact', 'GET', '/api/queue/v1/task/:taskId/artifact-content/:name+', (r) => {
      const name = decodeURIComponent(r.params[1]!)
      FakeAuth.require(r.caller, `queue:get-artifact:${name}`)
      const record = state.get(r.params[0]!)
      sendJson(r.res, 200, artifactContent(record, latestRun(record), name), 'queue/v1/artifact-content-response')
    }),
    route('getLatestArtifact', 'GET', '/api/queue/v1/task/:taskId/artifacts/:name+', (r) => {
      const name = decodeURIComponent(r.params[1]!)
      FakeAuth.require(r.caller, `queue:get-artifact:${name}`)
      const record = state.get(r.params[0]!)
      const content = artifactContent(record, latestRun(record), name)
      if (content.storageType === 'error') throw new HttpError(424, 'ArtifactError', `${String(content.reason)}: ${String(content.message)}`)
      const url = content.storageType === 'object' ? `${ctx.baseUrl()}/_s3/${record.taskId}/${latestRun(record)}/${encodeURIComponent(name)}` : String(content.url)
      r.res.writeHead(303, { location: url }).end(JSON.stringify({ storageType: content.storageType, url }))
    }),
    route('getArtifact', 'GET', '/api/queue/v1/task/:taskId/runs/:runId/artifacts/:name+', (r) => {
      const [taskId, runIdText, rawName] = r.params as [string, string, string]
      const name = decodeURIComponent(rawName)
      FakeAuth.require(r.caller, `queue:get-artifact:${name}`)
      const a = state.get(taskId).artifacts[Number(runIdText)]?.get(name)
      if (!a || !a.present) throw new HttpError(404, 'ResourceNotFound', `artifact ${name} not found`)
      if (a.storageType === 'error') throw new HttpError(424, 'ArtifactError', `${a.reason}: ${a.message}`)
      const url = a.storageType === 'reference' ? a.url! : a.storageType === 'link' ? `${ctx.baseUrl()}/api/queue/v1/task/${taskId}/runs/${runIdText}/artifacts/${encodeURIComponent(a.artifact!)}` : `${ctx.baseUrl()}/_s3/${taskId}/${runIdText}/${encodeURIComponent(name)}`
      r.res.writeHead(303, { location: url, 'x-taskcluster-artifact-storage-type': a.storageType })
      r.res.end(JSON.stringify({ storageType: a.storageType, url }))
    }),
  ]
}

