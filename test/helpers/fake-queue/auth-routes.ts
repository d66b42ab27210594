// The Auth service's auth.expandScopes, with roles: what docker-worker asked for every task
// before it checked cache and device scopes (docker-worker src/task.js:408). Roles expand as the
// real service does: `assume:<roleId>` (or a `*` scope covering it) grants the role's scopes,
// a role id ending in `*` matches every `assume:` scope it is a prefix of, and `<..>` in the
// role's scopes is replaced by what that `*` matched; expansion repeats until nothing new comes.
import { FakeAuth } from './auth.js'
import { route, sendJson, type Route } from './http.js'

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

export function authRoutes(roles: ReadonlyMap<string, readonly string[]>): Route[] {
  return [
    route('expandScopes', 'POST', '/api/auth/v1/scopes/expand', (r) => {
      FakeAuth.require(r.caller, 'auth:expand-scopes')
      const body = r.json<{ scopes: string[] }>('auth/v1/scopeset')
      sendJson(r.res, 200, { scopes: expandScopes(roles, body.scopes) }, 'auth/v1/scopeset')
    }),
  ]
}
