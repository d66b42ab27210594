// Chain of trust: after the task's artifacts are uploaded, the worker vouches for them. It
// publishes `public/logs/certified.log` (the task log so far), `public/chain-of-trust.json`
// (the sha256 of every artifact the run uploaded, the task definition, who ran it and where)
// and `public/chain-of-trust.json.sig`, the detached ed25519 signature of that JSON's exact
// bytes, made with the worker's `ed25519SigningKeyLocation` key. Verifiers (scriptworker)
// check the signature with the pool's public key, then each hash against the artifacts.

import { copyFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Feature, FeatureFactory, TaskContext } from '../src/contract/executor.js'
import { signDetached, type SigningKey } from '../src/lib/ed25519.js'
import { TaskFailure, type WorkerError } from '../src/contract/errors.js'
import { uploadsArtifactsAfterAbort } from '../src/contract/outcome.js'
import { sha256File } from '../src/lib/sha256.js'

export const CERTIFIED_LOG = 'public/logs/certified.log'
export const COT_JSON = 'public/chain-of-trust.json'
export const COT_SIGNATURE = 'public/chain-of-trust.json.sig'

export function chainOfTrustFeature(key: SigningKey): FeatureFactory {
  return () => new ChainOfTrust(key)
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

/**
 * The certificate's bytes. generic-worker marshals it with Go's encoding/json (two-space
 * indent, map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped); docker-worker with
 * JSON.stringify. Verifiers parse it, but the signature covers these exact bytes.
 */
export function certificateBytes(cert: ChainOfTrustCertificate, family: TaskContext['family']): Buffer {
  if (family === 'docker') return Buffer.from(JSON.stringify(cert, null, 2))
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v
  // The top level keeps the certificate's field order (a Go struct); maps inside are sorted.
  const top = Object.fromEntries(Object.entries(cert).map(([k, v]) => [k, sorted(v)]))
  const text = JSON.stringify(top, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return Buffer.from(text)
}

/** Where a generic-worker task may leave data for its certificate (generic-worker 81.0.0). */
export const ADDITIONAL_DATA_FILE = 'chain-of-trust-additional-data.json'
const ADDITIONAL_DATA_MAX_BYTES = 1024 * 1024

/**
 * The JSON object a generic-worker task wrote to chain-of-trust-additional-data.json in its task
 * directory: its keys join the certificate's. The schema says only that tasks "inject additional
 * data into the certificate"; that the object's keys join the top level, and that a key the
 * worker itself vouches for (taskId, artifacts, environment…) is refused rather than
 * overwritten, are megalodon's reading, unverified against upstream's code. Docker payloads have
 * no such file (docker-worker had none).
 */
async function additionalData(ctx: TaskContext): Promise<Record<string, unknown>> {
  if (ctx.family !== 'generic' || !ctx.readTaskFile) return {}
  let content: Buffer | undefined
  try {
    content = await ctx.readTaskFile(ADDITIONAL_DATA_FILE, ADDITIONAL_DATA_MAX_BYTES)
  } catch (err) {
    throw new TaskFailure(`chain of trust: cannot read ${ADDITIONAL_DATA_FILE}: ${(err as Error).message}`)
  }
  if (content === undefined) return {}
  let data: unknown
  try {
    data = JSON.parse(content.toString('utf8'))
  } catch (err) {
    throw new TaskFailure(`chain of trust: ${ADDITIONAL_DATA_FILE} is not valid JSON: ${(err as Error).message}`)
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new TaskFailure(`chain of trust: ${ADDITIONAL_DATA_FILE} must hold a JSON object`)
  const clashes = Object.keys(data).filter((k) => WORKER_KEYS.has(k))
  if (clashes.length > 0) throw new TaskFailure(`chain of trust: ${ADDITIONAL_DATA_FILE} may not set what the worker vouches for: ${clashes.join(', ')}`)
  ctx.log.info(`Adding ${Object.keys(data).length} key(s) from ${ADDITIONAL_DATA_FILE} to the chain of trust certificate`)
  return data as Record<string, unknown>
}

const WORKER_KEYS = new Set(['chainOfTrustVersion', 'artifacts', 'task', 'taskId', 'runId', 'workerGroup', 'workerId', 'environment'])

// Content types as each legacy worker labelled these artifacts; all are gzip-encoded.
const contentTypes = {
  generic: { log: 'text/plain; charset=utf-8', json: 'text/plain; charset=utf-8', sig: 'application/octet-stream' },
  docker: { log: 'text/plain', json: 'text/plain', sig: 'application/octet-stream' },
} as const

class ChainOfTrust implements Feature {
  readonly name = 'chainOfTrust'
  readonly reservedArtifacts = [CERTIFIED_LOG, COT_JSON, COT_SIGNATURE]

  constructor(private readonly key: SigningKey) {}

  async start(): Promise<void> {
    // Nothing to do before the run: the certificate is about what the run produced.
  }

  async stop(ctx: TaskContext): Promise<void> {
    // Only a run whose artifacts were uploaded is vouched for: never after a cancel, and after
    // other aborts only where the family still uploads artifacts.
    if (ctx.signal.aborted && !uploadsArtifactsAfterAbort(ctx.family, ctx.signal.reason as WorkerError)) return
    // the task's own additions are checked before anything is published: bad ones fail the run
    const additional = await additionalData(ctx)
    const types = contentTypes[ctx.family]
    const dir = path.join(ctx.taskDir, 'generic-worker')
    const expires = ctx.task.expires

    await ctx.log.sync()
    const certifiedLog = path.join(dir, 'certified.log')
    await copyFile(ctx.log.path, certifiedLog)
    await ctx.publisher.publish({ kind: 'file', name: CERTIFIED_LOG, path: certifiedLog, contentType: types.log, contentEncoding: 'gzip', expires }, ctx.signal)

    const artifacts: Record<string, { sha256: string }> = {}
    for (const spec of ctx.published()) {
      if (spec.kind === 'file') artifacts[spec.name] = { sha256: (await sha256File(spec.path)).sha256 }
    }
    const c = ctx.config
    const environment: Record<string, unknown> = { publicIpAddress: c.publicIP, privateIpAddress: c.privateIP }
    // Both list the cloud instance when known; only generic-worker the availability zone.
    if (c.instanceID) environment.instanceId = c.instanceID
    if (c.instanceType) environment.instanceType = c.instanceType
    if (c.region) environment.region = c.region
    if (c.availabilityZone && ctx.family === 'generic') environment.availabilityZone = c.availabilityZone
    Object.assign(environment, await ctx.provenance?.())
    const cert: ChainOfTrustCertificate = {
      chainOfTrustVersion: 1,
      artifacts,
      task: ctx.task,
      taskId: ctx.taskId,
      runId: ctx.runId,
      workerGroup: c.workerGroup,
      workerId: c.workerId,
      environment,
    }
    const bytes = certificateBytes({ ...cert, ...additional }, ctx.family)
    const jsonPath = path.join(dir, 'chain-of-trust.json')
    const sigPath = path.join(dir, 'chain-of-trust.json.sig')
    await writeFile(jsonPath, bytes)
    await writeFile(sigPath, signDetached(this.key, bytes))
    await ctx.publisher.publish({ kind: 'file', name: COT_JSON, path: jsonPath, contentType: types.json, contentEncoding: 'gzip', expires }, ctx.signal)
    await ctx.publisher.publish({ kind: 'file', name: COT_SIGNATURE, path: sigPath, contentType: types.sig, contentEncoding: 'gzip', expires }, ctx.signal)
  }
}
