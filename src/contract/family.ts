// A payload family: one legacy worker's rules. Wherever docker-worker and generic-worker
// behaved differently (log format, header and footer, which outcome resolves how, artifact
// rules, feature facts, chain-of-trust bytes, how production logs read), the difference lives
// in that family's profile (executors/<family>/family.ts), so the core and the features hold
// no family literal.

import type { WorkerConfig } from '../config/config.js'
import type { LogFormat, TaskLog } from '../lib/task-log.js'
import type { ArtifactSpec } from './artifacts.js'
import type { AbortReason } from './errors.js'
import type { FeatureName, FeatureRequest } from './feature.js'
import type { Resolution } from './outcome.js'
import type { TaskDefinition } from './taskcluster.js'
import type { RunSummary, TaskContext, ValidatedPayload } from './task-context.js'

export type FamilyName = 'generic' | 'docker'

export interface FamilyProfile<P = unknown> {
  readonly name: FamilyName
  /**
   * Whether a payload is of this family (its shape, not its validity). With the config, a pool
   * that runs one family only (disableNativePayloads) sends every payload to that family.
   */
  accepts(payload: unknown, config?: Pick<WorkerConfig, 'disableNativePayloads'>): boolean
  /**
   * Pure; throws MalformedPayload (PayloadSchemaInvalid for schema errors, MissingScopes when a
   * scope check failed) with every problem. Scope checks use `heldScopes` when given (the task's
   * scopes expanded through Auth), the task's own scopes otherwise; messages list the task's own.
   */
  validate(task: TaskDefinition, config: WorkerConfig, heldScopes?: readonly string[]): ValidatedPayload<P>
  /**
   * Imports what validate needs (the schema validators), once; validate may be called only after
   * it resolved. Not at start: an idle worker does without them (issue #18, idle RSS).
   */
  load(): Promise<void>
  /** The features this payload asks for; the core starts them in FEATURE_ORDER. */
  requestedFeatures(payload: P): FeatureRequest[]
  /**
   * When true, the live log (when unvalidatedLogs names one) starts right after the header,
   * before the payload is validated and prepared, at the names unvalidatedLogs gives.
   */
  readonly liveLogBeforeValidation?: boolean
  /** Requested features started before `prepare` (mounts, users…), in FEATURE_ORDER; the others start after it. */
  readonly featuresBeforePrepare?: readonly FeatureName[]
  readonly log: {
    /** How worker lines look in this family's task log. */
    readonly format: LogFormat
    /** Lines before validation (worker settings, task id). */
    header(ctx: TaskContext): void
    /** Lines at the very end (duration, the error that decided the resolution). */
    footer(ctx: TaskContext, summary: RunSummary): void
    /**
     * The task-log lines for one of the task's artifacts as it is uploaded; without it, one
     * line per artifact, and a line for an upload that failed.
     */
    artifact?(log: TaskLog, spec: ArtifactSpec): void
    /** The logs published for a payload that did not validate (no live log: no link to the backing log). */
    unvalidatedLogs(payload: unknown, config: WorkerConfig): { live: string | null; backing: string | null }
    /** No line per uploaded artifact (generic-worker's `Uploading artifact …` lines) when true. */
    readonly quietUploads?: boolean
  }
  readonly outcomes: FamilyOutcomes
  readonly featureFacts: FeatureFacts
  readonly replay: ReplayFacts
}

/** The rows of the resolution table where the two legacy workers disagree. */
export interface FamilyOutcomes {
  /** A payload asks for a feature this worker does not offer: how it resolves, in which words. */
  featureNotOffered: { resolution: Resolution; problem(feature: FeatureName, config: WorkerConfig): string }
  /** Whether a missing (non-optional) artifact fails the task. */
  missingArtifactFails: boolean
  /** Whether a failed upload of the task's logs decides the resolution when nothing else went wrong. */
  logUploadDecides?: boolean
  /** Whether the task's own artifacts are still uploaded after the run was aborted for `reason`. */
  uploadsArtifactsAfter(reason: AbortReason): boolean
  /** A reclaim failed other than with 409: true fails the task (ReclaimFailed), false is an internal error. */
  reclaimFailureFails: boolean
  /**
   * When the next reclaim is due, from the claim's remaining time; absent: generic-worker's
   * schedule (3 minutes before takenUntil, halfway for short claims: src/run/reclaimer.ts).
   */
  reclaimDelayMs?(remainingMs: number): number
  /**
   * When present, a failed upload of the task's artifacts (every artifact still tried) is written
   * as these error lines and fails the run (PostRunFailure). Absent: the upload's own error
   * decides the resolution.
   */
  uploadFailure?: { lines(failed: ReadonlyArray<{ name: string; message: string }>): string[] }
  /** When true, a feature that fails to stop (its own upload) fails the run instead of its error deciding. */
  featureStopFailureFails?: boolean
}

/** Legacy facts the features read instead of asking which family a run is. */
export interface FeatureFacts {
  liveLog: {
    /**
     * How long past the task's maxRunTime the live log's reference lasts (never past the task's
     * expiry); null: until the task expires.
     */
    expiresAfterMaxRunTimeSecs: number | null
  }
  interactive: {
    /** Where the shell page's link is published. */
    artifactName: string
    /** The link artifact's content type. */
    contentType: string
    /** How long past the task's maxRunTime the link lasts (never past the task's expiry). */
    expiresAfterMaxRunTimeSecs: number
    /** Whether the run goes on, with this warning, when the link cannot be published (else it fails the run). */
    publishFailureWarning?: (err: unknown) => string
    requiredScopes(config: WorkerConfig): string[]
  }
  taskclusterProxy: {
    /** Scopes the proxy adds to the task's own when it signs requests. */
    extraScopes(taskId: string, runId: number): string[]
    /** The task-log line after each reclaim gave the proxy new credentials, if the family writes one. */
    refreshedLine?(clientId: string): string
  }
  chainOfTrust: {
    contentTypes: Record<'log' | 'json' | 'sig', string>
    /** The exact bytes the signature covers, as the legacy worker serialised the certificate. */
    certificateBytes(cert: ChainOfTrustCertificate, withAdditionalData?: boolean): Buffer
    /** The file in the task directory whose JSON object joins the certificate, if the family has one. */
    additionalDataFile?: string
    /**
     * The certificate's `environment`: the config's host facts and the executor's provenance
     * (docker image hashes), in the legacy worker's form and key order.
     */
    environment(config: WorkerConfig, provenance: Record<string, unknown>): Record<string, unknown>
    /**
     * When true, the certificate is made once the log is closed: certified.log is the whole log,
     * footer included. Otherwise when the feature stops (the log so far).
     */
    afterLog?: boolean
    /** Content encoding of the certificate and its signature (certified.log is always gzip). */
    certificateEncoding?: 'gzip' | 'identity'
  }
}

export interface ChainOfTrustCertificate {
  chainOfTrustVersion: 1
  artifacts: Record<string, { sha256: string }>
  task: unknown
  taskId: string
  runId: number
  workerGroup: string
  workerId: string
  environment: Record<string, unknown>
}

/** What a replay needs to read this family's production runs. */
export interface ReplayFacts {
  /** The name the legacy worker gave the backing log of this (unvalidated) payload. */
  backingLogName(payload: unknown): string
}
