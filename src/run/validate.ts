// Validation with role expansion, as generic-worker checks a feature's scopes
// (main.go:1219-1228, internal/scopes/scopes.go Satisfies): first against the task's scopes as
// written; only when that fails, and the task holds an `assume:` scope, against their expansion
// through the Auth service. An Auth failure there is resource-unavailable (main.go:1220-1224:
// "presumably we couldn't expand assume:* scopes due to auth service unavailability").

import type { FamilyProfile } from '../contract/family.js'
import type { TaskDefinition } from '../contract/taskcluster.js'
import type { ValidatedPayload } from '../contract/task-context.js'
import { MissingScopes, ResourceUnavailable } from '../contract/errors.js'
import type { WorkerConfig } from '../config/config.js'
import { hasAssumeScope } from '../lib/scopes.js'

export type ScopeExpander = (scopes: readonly string[]) => Promise<string[]>

export async function validateWithRoles<P>(profile: FamilyProfile<P>, task: TaskDefinition, config: WorkerConfig, expand: ScopeExpander | undefined): Promise<ValidatedPayload<P>> {
  await profile.load()
  try {
    return profile.validate(task, config)
  } catch (err) {
    // scopes.go:102-106: without an `assume:` scope the expansion is the scopes themselves
    if (!(err instanceof MissingScopes) || !expand || !hasAssumeScope(task.scopes)) throw err
  }
  let expanded: string[]
  try {
    expanded = await expand(task.scopes)
  } catch (err) {
    throw new ResourceUnavailable(`could not expand the task's scopes through the Auth service: ${(err as Error).message}`, { cause: err })
  }
  return profile.validate(task, config, expanded)
}
