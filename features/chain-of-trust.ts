// Chain of trust: after the task's artifacts are uploaded, the worker vouches for them. It
// publishes `public/logs/certified.log` (the task log so far), `public/chain-of-trust.json`
// (the sha256 of every artifact the run uploaded, the task definition, who ran it and where)
// and `public/chain-of-trust.json.sig`, the detached ed25519 signature of that JSON's exact
// bytes, made with the worker's `ed25519SigningKeyLocation` key. Verifiers (scriptworker)
// check the signature with the pool's public key, then each hash against the artifacts.

import { copyFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { ChainOfTrustCertificate } from '../src/contract/family.js'
import type { Feature, FeatureFactory } from '../src/contract/feature.js'
import type { TaskContext } from '../src/contract/task-context.js'
import { signDetached, type SigningKey } from '../src/lib/ed25519.js'
import { InternalError, MalformedPayload, type AbortReason } from '../src/contract/errors.js'
import { sha256File } from '../src/lib/sha256.js'
import { goMergeMap } from '../src/lib/go-json.js'

export const CERTIFIED_LOG = 'public/logs/certified.log'
export const COT_JSON = 'public/chain-of-trust.json'
export const COT_SIGNATURE = 'public/chain-of-trust.json.sig'

export function chainOfTrustFeature(key: SigningKey): FeatureFactory {
  return () => new ChainOfTrust(key)
}

const ADDITIONAL_DATA_MAX_BYTES = 1024 * 1024

/** chain_of_trust_feature.go:21-24 */
export const ChainOfTrustKeyNotSecureMessage = 'was expecting attempt to read private chain of trust key as task user to fail - however, it did not'

/**
 * The JSON object a task wrote to its family's additional-data file (generic-worker's
 * chain-of-trust-additional-data.json) in its task directory, read as the task user.
 * generic-worker decodes it into a Go map (`null` decodes to an empty one) and merges the
 * certificate over it, the worker's values winning and nested objects merging key by key
 * (chain_of_trust_feature.go:253-292, mergemap v0.0.1). docker-worker had no such file.
 */
async function additionalData(ctx: TaskContext): Promise<Record<string, unknown> | undefined> {
  const file = ctx.profile.featureFacts.chainOfTrust.additionalDataFile
  if (!file || !ctx.readTaskFile) return undefined
  let content: Buffer | undefined
  try {
    content = await ctx.readTaskFile(file, ADDITIONAL_DATA_MAX_BYTES)
  } catch (err) {
    // a failed copy as the task user, or invalid JSON, panics generic-worker's Stop: the task
    // resolves exception/internal-error (chain_of_trust_feature.go:203-206,262-281, main.go:1185-1188)
    throw new InternalError(`chain of trust: cannot read ${file}: ${(err as Error).message}`)
  }
  if (content === undefined) return undefined
  let data: unknown
  try {
    data = JSON.parse(content.toString('utf8'))
  } catch (err) {
    throw new InternalError(`chain of trust: ${file} is not valid JSON: ${(err as Error).message}`)
  }
  // json.Unmarshal into a map: an object, or null (an empty map); anything else is an error
  if (data === null) return {}
  if (typeof data !== 'object' || Array.isArray(data)) throw new InternalError(`chain of trust: ${file} must hold a JSON object`)
  return data as Record<string, unknown>
}


/** The certificate merged over the task's data (mergemap.Merge(additional, cert)); too deep a nesting panics upstream: internal-error. */
function mergeAdditionalData(additional: Record<string, unknown>, cert: ChainOfTrustCertificate): ChainOfTrustCertificate {
  // the certificate as Go has it after json.Unmarshal: plain decoded JSON, not shared with the run
  const decoded = JSON.parse(JSON.stringify(cert)) as Record<string, unknown>
  try {
    return goMergeMap(additional, decoded) as unknown as ChainOfTrustCertificate
  } catch (err) {
    throw new InternalError(`chain of trust: cannot merge the certificate into the task's additional data: ${(err as Error).message}`)
  }
}

class ChainOfTrust implements Feature {
  readonly name = 'chainOfTrust'
  readonly reservedArtifacts = [CERTIFIED_LOG, COT_JSON, COT_SIGNATURE]

  constructor(private readonly key: SigningKey) {}

  /** Set when start refused the run: nothing is vouched for. */
  private refused = false

  async start(ctx: TaskContext): Promise<void> {
    // generic-worker's Start (chain_of_trust_feature.go:126-137,240-251): the task's user must
    // not be able to read the signing key (e.g. with runTaskAsCurrentUser), else malformed.
    // Only an executor that runs tasks as a user of its own host can read task files there.
    const key = ctx.config.ed25519SigningKeyLocation
    if (!ctx.readTaskFile || !key) return
    const readable = await ctx.readTaskFile(path.relative(ctx.taskDir, path.resolve(key)), 64 * 1024).then(
      (content) => content !== undefined,
      () => false,
    )
    if (readable) {
      this.refused = true
      throw new MalformedPayload(ChainOfTrustKeyNotSecureMessage)
    }
  }

  async stop(ctx: TaskContext): Promise<void> {
    if (!ctx.profile.featureFacts.chainOfTrust.afterLog) await this.certify(ctx)
  }

  async afterLog(ctx: TaskContext): Promise<void> {
    if (ctx.profile.featureFacts.chainOfTrust.afterLog) await this.certify(ctx)
  }

  private async certify(ctx: TaskContext): Promise<void> {
    if (this.refused) return
    // Only a run whose artifacts were uploaded is vouched for: never after a cancel, and after
    // other aborts only where the family still uploads artifacts.
    if (ctx.signal.aborted && !ctx.profile.outcomes.uploadsArtifactsAfter(ctx.signal.reason as AbortReason)) return
    const facts = ctx.profile.featureFacts.chainOfTrust
    const types = facts.contentTypes
    const dir = path.join(ctx.taskDir, 'generic-worker')
    const expires = ctx.task.expires

    if (!ctx.log.isClosed) await ctx.log.sync()
    const certifiedLog = path.join(dir, 'certified.log')
    await copyFile(ctx.log.path, certifiedLog)
    await ctx.publisher.publish({ kind: 'file', name: CERTIFIED_LOG, path: certifiedLog, contentType: types.log, contentEncoding: 'gzip', expires }, ctx.signal)
    // read after certified.log is published, as upstream's Stop does (chain_of_trust_feature.go:148-152,203-206)
    const additional = await additionalData(ctx)

    const artifacts: Record<string, { sha256: string }> = {}
    for (const spec of ctx.published()) {
      // the bytes that were uploaded: the task user's copy on the multiuser engine (never the
      // task's path re-read as root: security audit H1/H2)
      if (spec.kind === 'file') artifacts[spec.name] = { sha256: (await sha256File(spec.contentPath ?? spec.path)).sha256 }
    }
    const c = ctx.config
    // the host facts as the family's legacy worker listed them, then what the executor adds
    // (docker-worker: the image hashes)
    const environment = facts.environment(c, (await ctx.provenance?.()) ?? {})
    const cert: ChainOfTrustCertificate = {
      chainOfTrustVersion: 1,
      artifacts,
      task: ctx.validatedTask ?? ctx.task,
      taskId: ctx.taskId,
      runId: ctx.runId,
      workerGroup: c.workerGroup,
      workerId: c.workerId,
      environment,
    }
    const bytes = additional ? facts.certificateBytes(mergeAdditionalData(additional, cert), true) : facts.certificateBytes(cert)
    const jsonPath = path.join(dir, 'chain-of-trust.json')
    const sigPath = path.join(dir, 'chain-of-trust.json.sig')
    await writeFile(jsonPath, bytes)
    await writeFile(sigPath, signDetached(this.key, bytes))
    const encoding = facts.certificateEncoding ?? 'gzip'
    await ctx.publisher.publish({ kind: 'file', name: COT_JSON, path: jsonPath, contentType: types.json, contentEncoding: encoding, expires }, ctx.signal)
    await ctx.publisher.publish({ kind: 'file', name: COT_SIGNATURE, path: sigPath, contentType: types.sig, contentEncoding: encoding, expires }, ctx.signal)
  }
}
