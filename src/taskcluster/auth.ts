// The Auth service's expandScopes, with the worker's own credentials: docker-worker expanded a
// task's roles this way before checking its cache and device scopes (docker-worker
// src/task.js:403-408, an Auth client built from runtime.taskcluster, the worker's credentials).

import taskcluster from 'taskcluster-client'
import type { Credentials } from '../contract/taskcluster.js'
import { withRetry, type RetryOptions } from './retry.js'

export async function expandScopes(rootUrl: string, credentials: Credentials, scopes: readonly string[], retry?: RetryOptions): Promise<string[]> {
  const auth = new taskcluster.Auth({ rootUrl, credentials, retries: 0 })
  const res = await withRetry(() => auth.expandScopes({ scopes: [...scopes] }), retry)
  return res.scopes
}
