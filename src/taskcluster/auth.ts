// The Auth service's expandScopes, with the worker's own credentials: docker-worker expanded a
// task's roles this way before checking its cache and device scopes (docker-worker
// src/task.js:403-408, an Auth client built from runtime.taskcluster, the worker's credentials).
// POST /api/auth/v1/scopes/expand (the Auth API reference), through the worker's own request module.

import type { Credentials } from '../contract/taskcluster.js'
import { apiRequest } from './api-request.js'
import { withRetry, type RetryOptions } from './retry.js'

export async function expandScopes(rootUrl: string, credentials: Credentials, scopes: readonly string[], retry?: RetryOptions): Promise<string[]> {
  const res = (await withRetry(() => apiRequest({ rootUrl, service: 'auth', method: 'POST', path: '/scopes/expand', credentials, body: { scopes: [...scopes] }, timeoutMs: 30_000 }), retry)) as { scopes: string[] }
  return res.scopes
}

/**
 * auth.websocktunnelToken (GET /api/auth/v1/websocktunnel/<wstAudience>/<wstClient>, scope
 * `auth:websocktunnel-token:<wstAudience>/<wstClient>`): the JWT a websocktunnel client presents.
 */
export async function websocktunnelToken(rootUrl: string, credentials: Credentials, audience: string, clientId: string, retry?: RetryOptions): Promise<string> {
  const res = (await withRetry(() => apiRequest({ rootUrl, service: 'auth', method: 'GET', path: `/websocktunnel/${encodeURIComponent(audience)}/${encodeURIComponent(clientId)}`, credentials, timeoutMs: 30_000 }), retry)) as { token: string }
  return res.token
}
