// Hawk authentication and scope checks as the real deployment does them: permanent clients,
// temporary credentials (verified through their certificate), anonymous requests with the
// anonymous role's scopes.

import type { IncomingMessage } from 'node:http'
import Hawk from 'hawk'
import taskcluster from 'taskcluster-client'

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

interface Client {
  accessToken: string
  scopes: string[]
  /** Temporary credentials: the seed of the certificate they were issued with. */
  seed?: string
  expires?: number
}

export interface Caller {
  clientId: string
  scopes: string[]
}

const ANONYMOUS_SCOPES = ['queue:get-artifact:public/*']
const ISSUER = { clientId: 'static/fake-queue', accessToken: 'fake-queue-issuer-secret-0123456789abcdef' }

export function scopeSatisfied(have: readonly string[], need: string): boolean {
  return have.some((h) => h === need || (h.endsWith('*') && need.startsWith(h.slice(0, -1))))
}

export class FakeAuth {
  private readonly clients = new Map<string, Client>()
  /** What an unauthenticated caller may do (a deployment's `anonymous` role). */
  anonymousScopes: string[] = ANONYMOUS_SCOPES
  /** Roles, for auth.expandScopes: roleId (may end in `*`) → its scopes. */
  readonly roles = new Map<string, string[]>()

  addClient(clientId: string, accessToken: string, scopes: string[]): void {
    this.clients.set(clientId, { accessToken, scopes })
  }

  /** Every access token this deployment knows or issued (for the secrets scan). */
  secrets(): string[] {
    return [...this.clients.values()].map((c) => c.accessToken)
  }

  /** Revoke a client: its next request fails authentication. */
  removeClient(clientId: string): void {
    this.clients.delete(clientId)
  }

  /** Temporary credentials as the Queue issues them (task credentials, object credentials). */
  issueTemporary(clientId: string, scopes: string[], expires: Date): { clientId: string; accessToken: string; certificate: string } {
    const creds = taskcluster.createTemporaryCredentials({ clientId, start: new Date(Date.now() - 60_000), expiry: expires, scopes, credentials: ISSUER })
    const seed = (JSON.parse(creds.certificate) as { seed: string }).seed
    this.clients.set(clientId, { accessToken: creds.accessToken, scopes, seed, expires: expires.getTime() })
    return creds
  }

  async authenticate(req: IncomingMessage): Promise<Caller> {
    const bewit = /[?&]bewit=/.test(req.url ?? '')
    if (!req.headers.authorization && !bewit) return { clientId: 'anonymous', scopes: this.anonymousScopes }
    let result: { credentials: Client & { id: string }; artifacts?: { ext?: string }; attributes?: { ext?: string } }
    const lookup = (id: string) => {
      const c = this.clients.get(id)
      return c ? { ...c, id, key: c.accessToken, algorithm: 'sha256' } : undefined
    }
    try {
      result = (await (bewit ? Hawk.server.authenticateBewit(req, lookup) : Hawk.server.authenticate(req, lookup))) as typeof result
    } catch (err) {
      throw new HttpError(401, 'AuthenticationFailed', `hawk: ${(err as Error).message}`)
    }
    const client = result.credentials
    let scopes = client.scopes
    const rawExt = result.artifacts?.ext ?? result.attributes?.ext
    const ext = rawExt ? (JSON.parse(Buffer.from(rawExt, 'base64').toString('utf8')) as { certificate?: { seed?: string }; authorizedScopes?: string[] }) : {}
    if (client.seed !== undefined) {
      if (!ext.certificate || ext.certificate.seed !== client.seed) throw new HttpError(401, 'AuthenticationFailed', 'temporary credentials used without their certificate')
      if ((client.expires ?? 0) < Date.now()) throw new HttpError(401, 'AuthenticationFailed', 'temporary credentials have expired')
    }
    if (ext.authorizedScopes) scopes = ext.authorizedScopes.filter((s) => scopeSatisfied(client.scopes, s))
    // Every client has the anonymous role's scopes too, as in a real deployment.
    return { clientId: client.id, scopes: [...scopes, ...ANONYMOUS_SCOPES] }
  }

  static require(caller: Caller, ...needed: string[]): void {
    const missing = needed.filter((n) => !scopeSatisfied(caller.scopes, n))
    if (missing.length > 0) throw new HttpError(403, 'InsufficientScopes', `client ${caller.clientId} lacks scopes: ${missing.join(', ')}`)
  }
}
