// Chain of trust: keys in the legacy workers' file format, the signed certificate of a real
// docker task (fake Queue, real engine), and the refusals around it.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ChainOfTrustCertificate } from '../../src/contract/family.js'
import { dockerFamily } from '../../executors/docker/family.js'
import { genericFamily } from '../../executors/native/family.js'
import { generateKeyPair, signDetached, signingKeyFromBase64, verifyDetached } from '../../src/lib/ed25519.js'
import { cliEntry } from '../../src/lib/paths.js'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'
import { runWorker, spawnWorker } from '../helpers/worker.js'
import { slugid } from 'taskcluster-client'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { createNativeExecutor } from '../../executors/native/executor.js'

// RFC 8032, section 7.1, test 2: a seed, its public key, a one-byte message and its signature.
const RFC8032 = {
  seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  message: '72',
  signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
}

describe('ed25519 keys', () => {
  it('reads the base64 seed-and-public-key format and signs as RFC 8032 says', () => {
    const text = Buffer.from(RFC8032.seed + RFC8032.pub, 'hex').toString('base64')
    const key = signingKeyFromBase64(`${text}\n`)
    assert.equal(Buffer.from(key.publicKeyBase64, 'base64').toString('hex'), RFC8032.pub)
    const sig = signDetached(key, Buffer.from(RFC8032.message, 'hex'))
    assert.equal(sig.toString('hex'), RFC8032.signature)
    assert.ok(verifyDetached(key.publicKeyBase64, Buffer.from(RFC8032.message, 'hex'), sig))
    assert.ok(!verifyDetached(key.publicKeyBase64, Buffer.from('73', 'hex'), sig))
  })

  it('refuses keys of the wrong size or with a foreign public half', () => {
    assert.throws(() => signingKeyFromBase64(Buffer.alloc(32).toString('base64')), /64 bytes/)
    const other = Buffer.from(generateKeyPair().privateKeyBase64, 'base64')
    const mixed = Buffer.concat([Buffer.from(RFC8032.seed, 'hex'), other.subarray(32)])
    assert.throws(() => signingKeyFromBase64(mixed.toString('base64')), /does not belong/)
  })

  it('`megalodon new-ed25519-keypair --file F` writes a 0400 key and prints its public key', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-key-'))
    const file = path.join(dir, 'signing.key')
    const cli = cliEntry
    const printed = execFileSync(process.execPath, [cli, 'new-ed25519-keypair', '--file', file], { encoding: 'utf8' }).trim()
    assert.equal(statSync(file).mode & 0o777, 0o400)
    const key = signingKeyFromBase64(readFileSync(file, 'utf8'))
    assert.equal(printed, key.publicKeyBase64)
    assert.equal(Buffer.from(printed, 'base64').length, 32)
    // an existing key is never overwritten: exit 75 as generic-worker's CANT_CREATE_ED25519_KEYPAIR
    let status: number | null = null
    try {
      execFileSync(process.execPath, [cli, 'new-ed25519-keypair', '--file', file], { stdio: 'pipe' })
    } catch (err) {
      status = (err as { status: number }).status
    }
    assert.equal(status, 75)
  })
})

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

  it('signs generic-worker’s certificate: Go encoding, availability zone, every artifact hashed', async () => {
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
    assert.deepEqual(cert.environment, { publicIpAddress: '', privateIpAddress: '10.0.0.7', instanceId: 'i-123', availabilityZone: 'us-east-1a' })
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
    assert.match(o.log, /Not uploading artifact public\/chain-of-trust.json from the task: the name is reserved/)
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
  })

  it('a worker whose signing key cannot be read does not start (exit 73)', async () => {
    const { exited, stderr } = await spawnWorker(fake, { ed25519SigningKeyLocation: '/nonexistent/key' })
    assert.equal(await exited, 73)
    assert.match(stderr(), /cannot read the ed25519 signing key \/nonexistent\/key/)
  })
})
