// Which Taskcluster deployment the deployment suite runs against, from the environment, so an
// operator can point it at staging (README: "Testing against a real deployment"). The
// defaults are the names the shared loopback deployment's env.sh exports.

import { randomBytes } from 'node:crypto'

export interface Credentials {
  clientId: string
  accessToken: string
}

export interface DeploymentEnv {
  rootUrl: string
  /** A client that can create, cancel and inspect tasks in the worker pool (and create workers). */
  creator: Credentials
  /** The worker's own client: claim-work in the pool, worker-id, purge-requests. */
  worker: Credentials
  /** The task queue the scenarios' tasks go to and the worker claims from. */
  workerPoolId: string
  /** worker-manager static-provider pools and the secret their workers prove themselves with (registerWorker scenarios). */
  workerManager?: { staticSecret: string; pool: string; shortPool: string }
}

function first(...names: string[]): string | undefined {
  for (const n of names) if (process.env[n]) return process.env[n]
  return undefined
}

function required(what: string, ...names: string[]): string {
  const v = first(...names)
  if (!v) throw new Error(`the deployment suite needs ${what}: set ${names.join(' or ')} (README: "Testing against a real deployment")`)
  return v
}

let cached: DeploymentEnv | undefined

export function deploymentEnv(): DeploymentEnv {
  if (cached) return cached
  const staticSecret = first('DEPLOYMENT_SUITE_STATIC_SECRET', 'TC_STATIC_WORKER_SECRET')
  cached = {
    rootUrl: required('the root URL', 'DEPLOYMENT_SUITE_ROOT_URL', 'TASKCLUSTER_ROOT_URL').replace(/\/+$/, ''),
    creator: {
      clientId: required('a client that creates tasks', 'DEPLOYMENT_SUITE_CLIENT_ID', 'TASKCLUSTER_CLIENT_ID'),
      accessToken: required('its access token', 'DEPLOYMENT_SUITE_ACCESS_TOKEN', 'TASKCLUSTER_ACCESS_TOKEN'),
    },
    worker: {
      clientId: required("the worker's client", 'DEPLOYMENT_SUITE_WORKER_CLIENT_ID', 'TC_WORKER_CLIENT_ID'),
      accessToken: required("the worker's access token", 'DEPLOYMENT_SUITE_WORKER_ACCESS_TOKEN', 'TC_WORKER_ACCESS_TOKEN'),
    },
    // A fresh task queue per suite run by default (the shared deployment's worker client may
    // claim from any megalodon-test/<x>), so nothing an earlier run left pending is claimed.
    workerPoolId: first('DEPLOYMENT_SUITE_WORKER_POOL') ?? `megalodon-test/deploy-${randomBytes(5).toString('hex')}`,
    ...(staticSecret
      ? {
          workerManager: {
            staticSecret,
            pool: first('DEPLOYMENT_SUITE_WM_POOL') ?? 'megalodon-test/static',
            shortPool: first('DEPLOYMENT_SUITE_WM_SHORT_POOL') ?? 'megalodon-test/static-short',
          },
        }
      : {}),
  }
  return cached
}
