// Scope satisfaction as Taskcluster defines it: a held scope ending in `*` covers every scope
// it is a prefix of. (Role expansion, `assume:…`, needs the auth service: src/run/validate.ts.)

import { goQuote } from './go-quote.js'

export function scopeSatisfied(held: readonly string[], needed: string): boolean {
  return held.some((h) => h === needed || (h.endsWith('*') && needed.startsWith(h.slice(0, -1))))
}

/** True when any of the alternatives is satisfied. */
export function anyScopeSatisfied(held: readonly string[], alternatives: readonly string[]): boolean {
  return alternatives.some((a) => scopeSatisfied(held, a))
}

/** generic-worker's names for its features (each feature's Name()), by megalodon's payload key. */
const featureDisplayNames: Record<string, string> = {
  backingLog: 'Backing Log',
  chainOfTrust: 'Chain of Trust',
  interactive: 'Interactive',
  liveLog: 'Live Log',
  loopbackAudio: 'LoopbackAudio',
  loopbackVideo: 'LoopbackVideo',
  metadata: 'Metadata',
  mounts: 'Mounts/Caches',
  osGroups: 'OS Groups',
  resourceMonitor: 'Resource Monitor',
  runTaskAsCurrentUser: 'Run Task As Current User',
  taskclusterProxy: 'Taskcluster Proxy',
}

export function featureDisplayName(feature: string): string {
  return featureDisplayNames[feature] ?? feature
}

/**
 * generic-worker's refusal of a feature whose scopes the task lacks (malformed-payload,
 * main.go:1227), for one set of scopes that are all needed; undefined when `held` (the task's
 * scopes, or their expansion through Auth) covers them all.
 */
export function missingScopesProblem(feature: string, taskScopes: readonly string[], needed: readonly string[], held: readonly string[] = taskScopes): string | undefined {
  return missingScopeAlternativesProblem(feature, taskScopes, [[...new Set(needed)]], held)
}

/**
 * The same refusal for scopes.Required (internal/scopes/scopes.go:30-47): alternatives, any one
 * of which suffices when `held` covers every scope in it.
 */
export function missingScopeAlternativesProblem(feature: string, taskScopes: readonly string[], alternatives: ReadonlyArray<readonly string[]>, held: readonly string[] = taskScopes): string | undefined {
  if (alternatives.length === 0 || alternatives.some((all) => all.every((s) => scopeSatisfied(held, s)))) return undefined
  // main.go:1227 prints the task's scopes as written, even after expanding its roles
  const given = taskScopes.length === 0 ? '<no scopes>' : taskScopes.join(' and ')
  return `Feature ${goQuote(featureDisplayName(feature))} requires scopes:\n\n${requiredScopesText(alternatives)}\n\nbut task only has scopes:\n\n${given}\n\nYou probably should add some scopes to your task definition`
}

/** scopes.Required's String() (internal/scopes/scopes.go:130-151). */
function requiredScopesText(alternatives: ReadonlyArray<readonly string[]>): string {
  if (alternatives.length === 1) return alternatives[0]!.join(', and\n')
  return alternatives.map((all) => (all.length > 1 ? `(${all.join(' and ')})` : (all[0] ?? ''))).join(', or\n')
}

/**
 * generic-worker's refusal of a feature this worker pool's config does not enable
 * (main.go:1207-1213); the pool id path-escaped as url.PathEscape does (a worker pool id has
 * only letters, digits, `-`, `_` and its one `/`, which encodeURIComponent escapes alike).
 */
export function featureNotEnabledProblem(feature: string, pool: { provisionerId: string; workerType: string; rootURL: string }): string {
  const name = goQuote(featureDisplayName(feature))
  const id = `${pool.provisionerId}/${pool.workerType}`
  return [
    `this task is attempting to use feature ${name}, but it's not enabled on this worker pool (${id})`,
    'If you do not require this feature, remove the toggle from the task definition.',
    'If you do require this feature, please do one of two things:',
    `\t1. Contact the owner of the worker pool ${id} (see ${pool.rootURL}/worker-manager/${encodeURIComponent(id)}) and ask for ${name} to be enabled.`,
    `\t2. Use a worker pool that already allows ${name}`,
  ].join('\n')
}

/**
 * True when a scope set holds anything the Auth service could expand: an `assume:` scope, or a
 * `*` scope that covers `assume:` (`*`, `as*`…). Without one, expansion returns the set unchanged.
 */
export function mayAssumeRoles(held: readonly string[]): boolean {
  return held.some((s) => s.startsWith('assume:') || (s.endsWith('*') && 'assume:'.startsWith(s.slice(0, -1))))
}

/**
 * generic-worker's test for whether expansion can change anything: a scope starting `assume:`
 * (internal/scopes/scopes.go:102-106). Narrower than mayAssumeRoles: `*` or `assum*` alone is
 * not expanded there.
 */
export function hasAssumeScope(held: readonly string[]): boolean {
  return held.some((s) => s.startsWith('assume:'))
}

/** A Taskcluster scope expression: a scope, or AllOf / AnyOf of expressions. */
export type ScopeExpression = string | { AllOf: ScopeExpression[] } | { AnyOf: ScopeExpression[] }

/**
 * What of `expression` the held scopes do not satisfy, simplified as taskcluster-lib-scopes'
 * removeGivenScopes does (docker-worker src/scopes/expressions.js:114-152): satisfied parts
 * dropped, a one-element AllOf/AnyOf replaced by its element; null when nothing is missing.
 */
export function removeGivenScopes(held: readonly string[], expression: ScopeExpression): ScopeExpression | null {
  if (typeof expression === 'string') return scopeSatisfied(held, expression) ? null : expression
  if ('AllOf' in expression) {
    const AllOf = expression.AllOf.map((e) => removeGivenScopes(held, e)).filter((e) => e !== null)
    if (AllOf.length === 0) return null
    return AllOf.length === 1 ? AllOf[0]! : { AllOf }
  }
  const AnyOf = expression.AnyOf.map((e) => removeGivenScopes(held, e))
  if (AnyOf.includes(null)) return null
  return AnyOf.length === 1 ? AnyOf[0]! : { AnyOf: AnyOf as ScopeExpression[] }
}
