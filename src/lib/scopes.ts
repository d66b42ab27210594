// Scope satisfaction as Taskcluster defines it: a held scope ending in `*` covers every scope
// it is a prefix of. (Role expansion, `assume:…`, needs the auth service and is not done here.)

export function scopeSatisfied(held: readonly string[], needed: string): boolean {
  return held.some((h) => h === needed || (h.endsWith('*') && needed.startsWith(h.slice(0, -1))))
}

/** True when any of the alternatives is satisfied. */
export function anyScopeSatisfied(held: readonly string[], alternatives: readonly string[]): boolean {
  return alternatives.some((a) => scopeSatisfied(held, a))
}

/**
 * generic-worker's refusal of a feature whose scopes the task lacks (malformed-payload), or
 * undefined when it holds them all.
 */
export function missingScopesProblem(feature: string, held: readonly string[], needed: readonly string[]): string | undefined {
  const missing = [...new Set(needed)].filter((s) => !scopeSatisfied(held, s))
  return missing.length > 0 ? `Feature "${feature}" requires scopes the task does not have. Missing scopes:\n${missing.join('\n')}` : undefined
}

/** generic-worker's refusal of a feature this worker pool's config does not enable. */
export function featureNotEnabledProblem(feature: string, pool: { provisionerId: string; workerType: string }): string {
  return `This task requires the feature "${feature}", which is not enabled on worker pool ${pool.provisionerId}/${pool.workerType}`
}

/**
 * True when a scope set holds anything the Auth service could expand: an `assume:` scope, or a
 * `*` scope that covers `assume:` (`*`, `as*`…). Without one, expansion returns the set unchanged.
 */
export function mayAssumeRoles(held: readonly string[]): boolean {
  return held.some((s) => s.startsWith('assume:') || (s.endsWith('*') && 'assume:'.startsWith(s.slice(0, -1))))
}
