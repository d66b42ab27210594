// Scope satisfaction as Taskcluster defines it: a held scope ending in `*` covers every scope
// it is a prefix of. (Role expansion, `assume:…`, needs the auth service and is not done here.)

export function scopeSatisfied(held: readonly string[], needed: string): boolean {
  return held.some((h) => h === needed || (h.endsWith('*') && needed.startsWith(h.slice(0, -1))))
}

/** True when any of the alternatives is satisfied. */
export function anyScopeSatisfied(held: readonly string[], alternatives: readonly string[]): boolean {
  return alternatives.some((a) => scopeSatisfied(held, a))
}
