// worker-manager's registration API (static provider): registerWorker with a static secret
// gives temporary worker credentials and a secret; reregisterWorker renews them;
// shouldWorkerTerminate answers what the test says.
import taskcluster from 'taskcluster-client'
import { FakeAuth, HttpError } from './auth.js'
import { route, sendJson, type Route } from './http.js'

export interface WorkerManagerSettings {
  providerId: string
  staticSecret: string
  /** Lifetime of issued credentials. */
  credentialsTtlSecs: number
}

/** The test's answer to shouldWorkerTerminate, given how many calls came before this one. */
export type TerminateAnswer = (previousCalls: number) => boolean

export function workerManagerRoutes(auth: FakeAuth, settings: () => WorkerManagerSettings | undefined, registrations: Map<string, string>, terminate: () => TerminateAnswer | undefined): Route[] {
  let terminateCalls = 0
  const issue = (workerPoolId: string, workerGroup: string, workerId: string) => {
    const s = settings()!
    const expires = new Date(Date.now() + s.credentialsTtlSecs * 1000)
    const credentials = auth.issueTemporary(`worker/${workerPoolId}/${workerGroup}/${workerId}/${Date.now()}`, [
      `queue:claim-work:${workerPoolId}`,
      `queue:worker-id:${workerGroup}/${workerId}`,
      `worker-manager:reregister-worker:${workerPoolId}/${workerGroup}/${workerId}`,
      `worker-manager:should-worker-terminate:${workerPoolId}/${workerGroup}/${workerId}`,
    ], expires)
    const secret = taskcluster.slugid() + taskcluster.slugid()
    registrations.set(`${workerPoolId}/${workerGroup}/${workerId}`, secret)
    return { expires: expires.toISOString(), credentials, secret }
  }
  return [
    route('shouldWorkerTerminate', 'GET', '/api/worker-manager/v1/workers/:workerPoolId/:workerGroup/:workerId/should-terminate', (r) => {
      const answer = terminate()
      if (!answer) throw new HttpError(404, 'ResourceNotFound', 'shouldWorkerTerminate is not enabled in this fake')
      const [workerPoolId, workerGroup, workerId] = r.params.map((p) => decodeURIComponent(p))
      FakeAuth.require(r.caller, `worker-manager:should-worker-terminate:${workerPoolId}/${workerGroup}/${workerId}`)
      const yes = answer(terminateCalls++)
      sendJson(r.res, 200, { terminate: yes, reason: yes ? 'over_capacity' : 'no reason' }, 'worker-manager/v1/should-worker-terminate-response')
    }),
    route('registerWorker', 'POST', '/api/worker-manager/v1/worker/register', (r) => {
      const s = settings()
      if (!s) throw new HttpError(404, 'ResourceNotFound', 'worker-manager is not enabled in this fake')
      const body = r.json<{ workerPoolId: string; providerId: string; workerGroup: string; workerId: string; workerIdentityProof: { staticSecret?: string } }>('worker-manager/v1/register-worker-request')
      if (body.providerId !== s.providerId || body.workerIdentityProof.staticSecret !== s.staticSecret) throw new HttpError(400, 'InputError', 'identity proof rejected')
      sendJson(r.res, 200, { ...issue(body.workerPoolId, body.workerGroup, body.workerId), workerConfig: {} }, 'worker-manager/v1/register-worker-response')
    }),
    route('reregisterWorker', 'POST', '/api/worker-manager/v1/worker/reregister', (r) => {
      const body = r.json<{ workerPoolId: string; workerGroup: string; workerId: string; secret: string }>('worker-manager/v1/reregister-worker-request')
      const key = `${body.workerPoolId}/${body.workerGroup}/${body.workerId}`
      FakeAuth.require(r.caller, `worker-manager:reregister-worker:${key}`)
      if (registrations.get(key) !== body.secret) throw new HttpError(400, 'InputError', 'secret does not match')
      sendJson(r.res, 200, issue(body.workerPoolId, body.workerGroup, body.workerId), 'worker-manager/v1/reregister-worker-response')
    }),
  ]
}
