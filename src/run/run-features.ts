// The feature stages of a run: start what the payload asks for, in the core's one order, with
// the checks generic-worker's pipeline makes centrally (offered by this worker, scopes held);
// stop them in reverse, always.

import { FeatureNotOffered, MalformedPayload } from '../contract/errors.js'
import { FEATURE_ORDER, type Feature, type FeatureRequest, type FeatureTable } from '../contract/feature.js'
import type { TaskContext, ValidatedPayload } from '../contract/task-context.js'
import { featureDisplayName, missingScopesProblem } from '../lib/scopes.js'

/**
 * Starts the requested features in FEATURE_ORDER. Each is pushed onto `started` before its start
 * is called, so a feature whose start fails is still stopped (start may have half-happened).
 */
export async function startFeatures(ctx: TaskContext, requests: readonly FeatureRequest[], table: FeatureTable | undefined, validated: ValidatedPayload<unknown>, started: Feature[]): Promise<void> {
  const requested = new Map(requests.map((r) => [r.name, r]))
  for (const name of FEATURE_ORDER) {
    const request = requested.get(name)
    if (!request) continue
    const feature = table?.[name]?.(ctx, validated)
    if (!feature) {
      if (!request.required) continue
      throw new FeatureNotOffered(name, ctx.profile.outcomes.featureNotOffered.problem(name, ctx.config))
    }
    const missing = missingScopesProblem(name, ctx.task.scopes, feature.requiredScopes?.(ctx) ?? [])
    if (missing) throw new MalformedPayload('the task lacks the scopes for a feature it asks for', [missing])
    started.push(feature)
    await feature.start(ctx)
  }
}

/** Stops features in reverse order of start; every one is stopped, and each error is reported. */
export async function stopFeatures(ctx: TaskContext, started: readonly Feature[], onError: (err: unknown, feature: Feature) => void): Promise<void> {
  for (const feature of [...started].reverse()) {
    try {
      await feature.stop(ctx)
    } catch (err) {
      onError(err, feature)
    }
  }
}

/** Task artifacts named like one a feature publishes itself are left out, with a warning. */
export function withoutReserved<T extends { name: string }>(specs: T[], features: readonly Feature[], warn: (message: string) => void): T[] {
  const reserved = new Map<string, string>()
  for (const f of features) for (const name of f.reservedArtifacts ?? []) reserved.set(name, f.name)
  return specs.filter((spec) => {
    const owner = reserved.get(spec.name)
    // generic-worker's warning, naming the feature as its Name() does (artifact_feature.go:109-110)
    if (owner) warn(`Not uploading artifact ${spec.name} found in task.payload.artifacts section, since this will be uploaded later by ${featureDisplayName(owner)}`)
    return !owner
  })
}
