// Chain of trust: keys in the legacy workers' file format, the signed certificate of a real
// docker task (fake Queue, real engine), and the refusals around it.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ChainOfTrustCertificate } from '../../src/contract/family.js'
import { dockerFamily } from '../../executors/docker/family.js'
import { genericFamily } from '../../executors/native/family.js'
import { generateKeyPair, verifyDetached } from '../../src/lib/ed25519.js'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'
import { slugid } from 'taskcluster-client'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { createNativeExecutor } from '../../executors/native/executor.js'
import { loadJsonSchema } from '../../src/lib/json-schema.js'

// the validators' ajv is imported on first use (FamilyProfile.load); these tests call them directly
await loadJsonSchema()

describe('chain of trust certificate bytes', () => {
  const cert: ChainOfTrustCertificate = {
    chainOfTrustVersion: 1,
    artifacts: { 'public/b.txt': { sha256: 'bb' }, 'public/a.txt': { sha256: 'aa' } },
    task: { payload: { command: ['echo <a> & b'] }, metadata: { name: 'x' } },
    taskId: 'T',
    runId: 0,
    workerGroup: 'g',
    workerId: 'w',
    environment: { publicIpAddress: '', privateIpAddress: '' },
  }
  it('generic-worker: Go encoding (sorted maps, HTML characters escaped), fields in struct order', () => {
    const text = genericFamily.featureFacts.chainOfTrust.certificateBytes(cert).toString()
    assert.deepEqual(Object.keys(JSON.parse(text)), ['chainOfTrustVersion', 'artifacts', 'task', 'taskId', 'runId', 'workerGroup', 'workerId', 'environment'])
    assert.ok(text.indexOf('public/a.txt') < text.indexOf('public/b.txt'), 'map keys sorted')
    assert.ok(text.indexOf('"metadata"') < text.indexOf('"payload"'), 'task keys sorted')
    assert.match(text, /echo \\u003ca\\u003e \\u0026 b/)
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(cert)))
  })
  it('generic-worker: environment in CoTEnvironment’s field order, sorted once a task’s additional data joined (chain_of_trust_feature.go:46-52,198,292)', () => {
    const env = { publicIpAddress: '203.0.113.7', privateIpAddress: '10.0.0.1', instanceId: 'i', instanceType: 't', region: 'r' }
    const plain = JSON.parse(genericFamily.featureFacts.chainOfTrust.certificateBytes({ ...cert, environment: env }).toString()) as { environment: object }
    assert.deepEqual(Object.keys(plain.environment), ['publicIpAddress', 'privateIpAddress', 'instanceId', 'instanceType', 'region'])
    const merged = JSON.parse(genericFamily.featureFacts.chainOfTrust.certificateBytes({ ...cert, environment: env, ...({ extra: 1 } as Record<string, unknown>) }, true).toString()) as { environment: object }
    assert.deepEqual(Object.keys(merged.environment), ['instanceId', 'instanceType', 'privateIpAddress', 'publicIpAddress', 'region'])
    assert.deepEqual(Object.keys(merged), ['artifacts', 'chainOfTrustVersion', 'environment', 'extra', 'runId', 'task', 'taskId', 'workerGroup', 'workerId'], 'the top level is a map too')
  })
  it('docker-worker: JSON.stringify with two-space indent', () => {
    assert.equal(dockerFamily.featureFacts.chainOfTrust.certificateBytes(cert).toString(), JSON.stringify(cert, null, 2))
  })
})

describe('chain of trust for generic-worker payloads (native executor, fake Queue)', function () {
  // generic-worker offers chainOfTrust only in its multiuser schemas; until megalodon has that
  // engine, this stand-in validates the rest of the payload with the insecure schema and keeps
  // the feature flag, so the real native executor, core and feature run together.
  const native = createNativeExecutor()
  const withChainOfTrust: TaskExecutor = {
    ...(native as TaskExecutor),
    // an insecure task can read the worker's key, which the feature refuses (multiuser-identity
    // tests that): this vehicle for the certificate's bytes hides task files from the feature
    async prepare(ctx, payload, undo) {
      const run = await (native as TaskExecutor).prepare(ctx, payload, undo)
      delete ctx.readTaskFile
      return run
    },
    profile: {
      ...genericFamily,
      validate(task, config) {
        const { features, ...rest } = task.payload as { features?: Record<string, boolean> }
        const { chainOfTrust, ...others } = features ?? {}
        const v = genericFamily.validate({ ...task, payload: { ...rest, features: others } }, config)
        return { ...v, payload: { ...v.payload, features: { ...others, chainOfTrust } } }
      },
    } as TaskExecutor['profile'],
  }
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('signs generic-worker’s certificate: Go encoding, its environment fields, every artifact hashed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-cot-gw-'))
    const keyFile = path.join(dir, 'key')
    const pair = generateKeyPair()
    writeFileSync(keyFile, pair.privateKeyBase64)
    const taskId = slugid()
    await fake.createTask(taskId, {
      payload: { command: [['sh', '-c', 'echo "<hello & bye>" > out.txt']], maxRunTime: 60, features: { chainOfTrust: true }, artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }] },
    })
    await runWorker(fake, { numberOfTasksToRun: 1, ed25519SigningKeyLocation: keyFile, availabilityZone: 'us-east-1a', instanceID: 'i-123', privateIP: '10.0.0.7' }, [withChainOfTrust])
    const artifacts = fake.artifacts(taskId)
    assert.equal(fake.state.get(taskId).runs[0]!.state, 'completed')
    const json = artifacts.get('public/chain-of-trust.json')!
    assert.equal(json.contentType, 'text/plain; charset=utf-8')
    assert.ok(verifyDetached(pair.publicKeyBase64, json.content!, artifacts.get('public/chain-of-trust.json.sig')!.content!))
    const text = json.content!.toString()
    assert.match(text, /\\u003chello \\u0026 bye\\u003e/, 'Go escapes HTML characters')
    const cert = JSON.parse(text) as ChainOfTrustCertificate
    // CoTEnvironment (chain_of_trust_feature.go:46-52,186-196): no publicIpAddress when unset,
    // instanceType and region present though empty, no availabilityZone
    assert.deepEqual(cert.environment, { privateIpAddress: '10.0.0.7', instanceId: 'i-123', instanceType: '', region: '' })
    assert.deepEqual(Object.keys(cert.artifacts).sort(), ['public/logs/certified.log', 'public/out.txt'])
    const { createHash } = await import('node:crypto')
    for (const [name, { sha256 }] of Object.entries(cert.artifacts)) assert.equal(sha256, createHash('sha256').update(artifacts.get(name)!.content!).digest('hex'))
    assert.match(artifacts.get('public/logs/certified.log')!.content!.toString(), /=== Task Finished ===/)
  })
})

describe('chain of trust end to end (docker payload, fake Queue, real engine)', function () {
  let fake: FakeQueue
  let keyFile: string
  let publicKey: string
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    await dockerForTests()
    const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-cot-'))
    keyFile = path.join(dir, 'ed25519.key')
    const pair = generateKeyPair()
    writeFileSync(keyFile, pair.privateKeyBase64, { mode: 0o400 })
    publicKey = pair.publicKeyBase64
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('signs a certificate whose every hash matches the uploaded bytes', async () => {
    const payload = {
      image: BUSYBOX_IMAGE,
      command: ['sh', '-c', 'mkdir -p /out/d && echo one > /out/one.txt && head -c 100000 /dev/urandom > /out/d/blob.bin && echo two > /out/d/two.txt && echo task output'],
      maxRunTime: 60,
      features: { chainOfTrust: true },
      artifacts: { 'public/one.txt': { type: 'file', path: '/out/one.txt' }, 'public/dir': { type: 'directory', path: '/out/d' } },
    }
    const o = await submitAndRun(fake, payload, { config: { ed25519SigningKeyLocation: keyFile, publicIP: '203.0.113.7', instanceType: 'm5.large', availabilityZone: 'az-1' } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    const artifacts = fake.artifacts(o.taskId)
    const json = artifacts.get('public/chain-of-trust.json')!.content!
    const sig = artifacts.get('public/chain-of-trust.json.sig')!.content!
    assert.equal(sig.length, 64)
    assert.ok(verifyDetached(publicKey, json, sig), 'the signature verifies with the public key')
    const cert = JSON.parse(json.toString()) as ChainOfTrustCertificate
    assert.equal(cert.chainOfTrustVersion, 1)
    assert.equal(cert.taskId, o.taskId)
    assert.equal(cert.runId, 0)
    assert.equal(cert.workerGroup, 'test-worker-group')
    // the task with the schema defaults docker-worker's ajv (useDefaults) wrote into its payload
    // (src/validate.js:102, src/features/chain_of_trust.js:78)
    const claimed = fake.state.get(o.taskId).task as { payload: Record<string, unknown> }
    assert.deepEqual(cert.task, { ...claimed, payload: { ...claimed.payload, log: 'public/logs/live.log', features: { chainOfTrust: true, localLiveLog: true, bulkLog: true, taskclusterProxy: false, artifacts: true, interactive: false, allowPtrace: false } } })
    assert.equal(cert.environment.publicIpAddress, '203.0.113.7')
    assert.equal(cert.environment.instanceType, 'm5.large')
    assert.equal(cert.environment.availabilityZone, undefined, 'docker-worker did not list the zone')
    assert.match(String(cert.environment.imageHash), /^sha256:[0-9a-f]{64}$/)
    assert.deepEqual(Object.keys(cert.artifacts).sort(), ['public/dir/blob.bin', 'public/dir/two.txt', 'public/logs/certified.log', 'public/one.txt'])
    const { createHash } = await import('node:crypto')
    for (const [name, { sha256 }] of Object.entries(cert.artifacts)) {
      const stored = artifacts.get(name)!.content!
      assert.equal(sha256, createHash('sha256').update(stored).digest('hex'), `hash of ${name}`)
    }
    const certified = artifacts.get('public/logs/certified.log')!
    assert.equal(certified.contentEncoding, 'gzip')
    // the whole log, footer included: its hash is the live log's (chain_of_trust.js:85-93)
    assert.equal(cert.artifacts['public/logs/certified.log']!.sha256, createHash('sha256').update(artifacts.get('public/logs/live_backing.log')!.content!).digest('hex'))
    assert.match(certified.content!.toString(), /Successful task run with exit code: 0 completed in/)
    // the certificate and its signature without content encoding (src/features/chain_of_trust.js:106-115)
    assert.deepEqual([artifacts.get('public/chain-of-trust.json')!.contentEncoding, artifacts.get('public/chain-of-trust.json.sig')!.contentEncoding].map((e) => e ?? 'identity'), ['identity', 'identity'])
  })

  it('keeps the worker’s own certificate when the task has an artifact of the same name', async () => {
    const payload = {
      image: BUSYBOX_IMAGE,
      command: ['sh', '-c', 'echo forged > /forged.json'],
      maxRunTime: 60,
      features: { chainOfTrust: true },
      artifacts: { 'public/chain-of-trust.json': { type: 'file', path: '/forged.json' } },
    }
    const o = await submitAndRun(fake, payload, { config: { ed25519SigningKeyLocation: keyFile } })
    assert.equal(o.state, 'completed', o.log)
    // generic-worker's words (artifact_feature.go:109-110); docker-worker had no such warning
    assert.match(o.log, /\] Not uploading artifact public\/chain-of-trust.json found in task.payload.artifacts section, since this will be uploaded later by Chain of Trust\n/)
    const artifacts = fake.artifacts(o.taskId)
    const json = artifacts.get('public/chain-of-trust.json')!.content!
    assert.ok(verifyDetached(publicKey, json, artifacts.get('public/chain-of-trust.json.sig')!.content!))
    assert.doesNotMatch(json.toString(), /^forged/)
  })

  it('is off unless asked for, and fails the task as docker-worker did where the worker has no key', async () => {
    const plain = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60 }, { config: { ed25519SigningKeyLocation: keyFile } })
    assert.equal(plain.state, 'completed', plain.log)
    assert.equal(fake.artifacts(plain.taskId).has('public/chain-of-trust.json'), false)

    const refused = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, features: { chainOfTrust: true } })
    assert.equal(refused.state, 'failed', refused.log)
    assert.match(refused.log, /\[taskcluster:error\] chainOfTrust is not enabled on this worker/)
    // insecure engine: a key that does not load is not fatal (generic-worker's insecure build
    // never reads it: chain_of_trust_feature.go:1); the feature is just not offered
    const noKey = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, features: { chainOfTrust: true } }, { config: { ed25519SigningKeyLocation: '/nonexistent/key' } })
    assert.equal(noKey.state, 'failed', noKey.log)
    assert.match(noKey.log, /chainOfTrust is not enabled on this worker/)
  })
})
