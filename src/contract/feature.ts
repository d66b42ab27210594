// A feature wraps every run, whatever the executor: the core starts the ones a payload asks for
// in FEATURE_ORDER after prepare, and stops them in reverse after the artifacts, always
// (generic-worker's feature pipeline, main.go's deferred Stop).

import type { Reclaimed } from './taskcluster.js'
import type { TaskContext, ValidatedPayload } from './task-context.js'

/** Every feature the worker has, in the one order the core starts them. */
export const FEATURE_ORDER = ['liveLog', 'taskclusterProxy', 'interactive', 'chainOfTrust'] as const
export type FeatureName = (typeof FEATURE_ORDER)[number]

/** A feature a payload asks for. `required`: a worker that does not offer it must refuse the task. */
export interface FeatureRequest {
  name: FeatureName
  required: boolean
}

export interface Feature {
  readonly name: FeatureName
  /** Artifact names this feature publishes itself: a task artifact of the same name is skipped. */
  readonly reservedArtifacts?: readonly string[]
  /** Scopes the task must hold for this feature; the core checks them before start. */
  requiredScopes?(ctx: TaskContext): string[]
  /** May add env, artifacts, a log sink. */
  start(ctx: TaskContext): Promise<void>
  /** Always called once start was called, even after failure or abort. */
  stop(ctx: TaskContext): Promise<void>
  /**
   * Called after each reclaim until the run is resolved, once ctx.credentials() already returns
   * the new credentials; also after stop, which a feature that has stopped ignores. Must not throw.
   */
  reclaimed?(ctx: TaskContext, reclaimed: Reclaimed): void
  /** Called once the task log is complete and closed (footer included), before it is uploaded. */
  afterLog?(ctx: TaskContext): Promise<void>
}

/**
 * Makes a feature for one run, or returns undefined when it has nothing to do for this payload
 * (the live log of a payload that turned its log off). The worker builds the table from its
 * config; a name missing from the table is a feature the worker does not offer.
 */
export type FeatureFactory = (ctx: TaskContext, payload: ValidatedPayload<unknown>) => Feature | undefined
export type FeatureTable = Partial<Record<FeatureName, FeatureFactory>>
