// Standalone registration with worker-manager (what worker-runner does when it starts a
// worker): registerWorker with an identity proof gives credentials and a secret;
// reregisterWorker renews them before they expire.

import type { WorkerConfig } from '../config/config.js'
import type { Logger } from '../lib/logger.js'
import { apiRequest } from '../taskcluster/api-request.js'
import { withRetry, type RetryOptions } from '../taskcluster/retry.js'
import type { Credentials } from '../contract/taskcluster.js'

export interface Registration {
  credentials: Credentials
  expires: string
  secret: string
}

function parse(res: Record<string, unknown>): Registration {
  const c = res.credentials as { clientId: string; accessToken: string; certificate?: string }
  return {
    credentials: { clientId: c.clientId, accessToken: c.accessToken, ...(c.certificate ? { certificate: c.certificate } : {}) },
    expires: res.expires as string,
    secret: res.secret as string,
  }
}

export async function registerWorker(config: WorkerConfig, retry?: RetryOptions): Promise<Registration> {
  const wm = config.workerManager!
  const { default: taskcluster } = await import('taskcluster-client') // only with worker-manager
  const client = new taskcluster.WorkerManager({ rootUrl: config.rootURL, retries: 0 })
  const res = await withRetry(
    () =>
      client.registerWorker({
        workerPoolId: `${config.provisionerId}/${config.workerType}`,
        providerId: wm.providerId,
        workerGroup: config.workerGroup,
        workerId: config.workerId,
        workerIdentityProof: wm.workerIdentityProof,
      }),
    retry,
  )
  return parse(res)
}

/** worker-runner renews 30 minutes before expiry; short-lived credentials (tests) at half-life. */
export function renewDelayMs(expires: string, now = Date.now()): number {
  const remaining = Date.parse(expires) - now
  return Math.max(0, remaining - Math.min(30 * 60_000, remaining / 2))
}

/** Keeps re-registering; hands every new set of credentials to onCredentials. */
export function keepRegistered(options: {
  config: WorkerConfig
  registration: Registration
  onCredentials: (c: Credentials) => void
  logger: Logger
  retry?: RetryOptions
}): { stop(): void } {
  const { config, logger } = options
  let current = options.registration
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const schedule = () => {
    timer = setTimeout(() => void renew(), renewDelayMs(current.expires))
  }
  const renew = async () => {
    try {
      const { default: taskcluster } = await import('taskcluster-client')
      const client = new taskcluster.WorkerManager({ rootUrl: config.rootURL, credentials: current.credentials, retries: 0 })
      const res = await withRetry(
        () =>
          client.reregisterWorker({
            workerPoolId: `${config.provisionerId}/${config.workerType}`,
            workerGroup: config.workerGroup,
            workerId: config.workerId,
            secret: current.secret,
          }),
        options.retry,
      )
      if (stopped) return
      current = parse(res)
      options.onCredentials(current.credentials)
      logger.info({ expires: current.expires }, 're-registered with worker-manager')
    } catch (err) {
      logger.error({ err }, 're-registration with worker-manager failed; retrying in 30 s')
      if (!stopped) timer = setTimeout(() => void renew(), 30_000)
      return
    }
    if (!stopped) schedule()
  }
  schedule()
  return {
    stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}

/**
 * generic-worker's checkWhetherToTerminate (workers/generic-worker/main.go:839-856): asks
 * worker-manager whether this worker should go. A failed call is logged and counts as "no"
 * (upstream logs `could not determine whether I need to terminate` and carries on).
 */
export async function shouldWorkerTerminate(config: WorkerConfig, credentials: Credentials, logger: Logger, when = 'claim-loop'): Promise<boolean> {
  try {
    // GET /workers/<workerPoolId>/<workerGroup>/<workerId>/should-terminate (worker-manager's API
    // reference; newer than taskcluster-client's built-in references), each parameter encoded.
    const route = [`${config.provisionerId}/${config.workerType}`, config.workerGroup, config.workerId].map(encodeURIComponent).join('/')
    const res = (await apiRequest({ rootUrl: config.rootURL, service: 'worker-manager', method: 'GET', path: `/workers/${route}/should-terminate`, credentials, timeoutMs: 30_000 })) as { terminate?: unknown; reason?: unknown }
    const terminate = res.terminate === true
    logger.info({ terminate, reason: res.reason, when }, terminate ? 'worker-manager says terminate' : 'worker-manager says keep running')
    return terminate
  } catch (err) {
    logger.warn({ err, when }, 'could not determine whether to terminate')
    return false
  }
}
