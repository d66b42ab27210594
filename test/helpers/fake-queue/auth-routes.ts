// The Auth service's auth.expandScopes, with roles: what docker-worker asked for every task
// before it checked cache and device scopes (docker-worker src/task.js:408). Roles expand as the
// real service does: `assume:<roleId>` (or a `*` scope covering it) grants the role's scopes,
// a role id ending in `*` matches every `assume:` scope it is a prefix of, and `<..>` in the
// role's scopes is replaced by what that `*` matched; expansion repeats until nothing new comes.
import { inflateSync } from 'node:zlib'
import { FakeAuth, HttpError } from './auth.js'
import { CLIENT_ID, signJwt } from '../fake-websocktunnel.js'
import { route, sendJson, type Route } from './http.js'

/** An event the fake Sentry store received: what raven's HTTPTransport.Send (client.go) puts on the wire. */
export interface SentryEvent {
  projectId: string
  authHeader: string
  contentType: string
  /** The packet, decoded from JSON or from base64 of zlib (raven-go client.go serializedPacket). */
  packet: Record<string, unknown>
}

/** The DSN the fake's sentryDSN hands out: its own store, one Sentry project id per project name. */
const SENTRY_KEY = { public: 'fakepublickey0123', secret: 'fakesecretkey4567' }

const covers = (held: string, scope: string) => held === scope || (held.endsWith('*') && scope.startsWith(held.slice(0, -1)))

/** The scopes one scope grants through one role (none when it does not assume it). */
function granted(scope: string, roleId: string, roleScopes: readonly string[]): string[] {
  const assume = `assume:${roleId}`
  if (roleId.endsWith('*')) {
    const prefix = assume.slice(0, -1)
    if (scope.startsWith(prefix)) return roleScopes.map((s) => s.replace('<..>', scope.slice(prefix.length)))
    // a `*` scope that covers the role's whole prefix assumes it with nothing to substitute
    if (covers(scope, prefix)) return roleScopes.map((s) => s.replace('<..>', ''))
    return []
  }
  return covers(scope, assume) ? [...roleScopes] : []
}

export function expandScopes(roles: ReadonlyMap<string, readonly string[]>, scopes: readonly string[]): string[] {
  const out = new Set(scopes)
  for (let grew = true; grew; ) {
    grew = false
    for (const scope of [...out]) {
      for (const [roleId, roleScopes] of roles) {
        for (const s of granted(scope, roleId, roleScopes)) {
          if (!out.has(s)) {
            out.add(s)
            grew = true
          }
        }
      }
    }
  }
  // normalised as the service replies: no scope another one covers, sorted
  const all = [...out]
  return all.filter((s) => !all.some((o) => o !== s && covers(o, s))).sort()
}

export function authRoutes(roles: ReadonlyMap<string, readonly string[]>, sentry: { events: SentryEvent[]; baseUrl: () => string }, websocktunnelSecret: () => string): Route[] {
  const projectIds = new Map<string, string>()
  return [
    // services/auth/src/websocktunnel.js: an HS256 JWT with the deployment's websocktunnel secret
    route('websocktunnelToken', 'GET', '/api/auth/v1/websocktunnel/:wstAudience/:wstClient', (r) => {
      const [wstAudience, wstClient] = [decodeURIComponent(r.params[0]!), decodeURIComponent(r.params[1]!)]
      if (!/^[a-zA-Z0-9_-]{1,38}$/.test(wstAudience) || !CLIENT_ID.test(wstClient)) throw new HttpError(400, 'InvalidRequestArguments', 'bad wstAudience or wstClient')
      FakeAuth.require(r.caller, `auth:websocktunnel-token:${wstAudience}/${wstClient}`)
      const now = Math.floor(Date.now() / 1000)
      const exp = now + 96 * 3600
      const token = signJwt({ tid: wstClient, aud: wstAudience, sub: r.caller.clientId, iat: now, exp, nbf: now - 900, iss: 'taskcluster-auth' }, websocktunnelSecret())
      sendJson(r.res, 200, { wstClient, wstAudience, token, expires: new Date(exp * 1000).toISOString() }, 'auth/v1/websocktunnel-token-response')
    }),
    // services/auth/src/sentry.js: scope auth:sentry:<project>, {project, dsn: {secret, public}, expires}
    route('sentryDSN', 'GET', '/api/auth/v1/sentry/:project/dsn', (r) => {
      const project = decodeURIComponent(r.params[0]!)
      FakeAuth.require(r.caller, `auth:sentry:${project}`)
      if (!projectIds.has(project)) projectIds.set(project, String(projectIds.size + 1))
      const store = new URL(`/_sentry/${projectIds.get(project)!}`, sentry.baseUrl())
      const dsn = (key: string) => `${store.protocol}//${key}@${store.host}${store.pathname}`
      sendJson(r.res, 200, { project, dsn: { secret: dsn(`${SENTRY_KEY.public}:${SENTRY_KEY.secret}`), public: dsn(SENTRY_KEY.public) }, expires: new Date(Date.now() + 86400_000).toISOString() }, 'auth/v1/sentry-dsn-response')
    }),
    // not a Taskcluster service: the Sentry server the DSN points at, which checks raven's auth header
    route('sentryStore', 'POST', '/_sentry/api/:id/store/', (r) => {
      const authHeader = String(r.req.headers['x-sentry-auth'] ?? '')
      const contentType = String(r.req.headers['content-type'] ?? '')
      if (authHeader !== `Sentry sentry_version=4, sentry_key=${SENTRY_KEY.public}, sentry_secret=${SENTRY_KEY.secret}`) {
        r.res.writeHead(403, { 'x-sentry-error': 'bad auth' }).end()
        return
      }
      const text = contentType === 'application/octet-stream' ? inflateSync(Buffer.from(r.body.toString('latin1'), 'base64')).toString('utf8') : r.body.toString('utf8')
      sentry.events.push({ projectId: r.params[0]!, authHeader, contentType, packet: JSON.parse(text) as Record<string, unknown> })
      sendJson(r.res, 200, { id: 'stored' })
    }),
    route('expandScopes', 'POST', '/api/auth/v1/scopes/expand', (r) => {
      FakeAuth.require(r.caller, 'auth:expand-scopes')
      const body = r.json<{ scopes: string[] }>('auth/v1/scopeset')
      sendJson(r.res, 200, { scopes: expandScopes(roles, body.scopes) }, 'auth/v1/scopeset')
    }),
  ]
}
